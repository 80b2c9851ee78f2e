#include <iostream>

#include <kvstack/kvstack.hpp>

int main() {
  kvstack::MemoryBackend db;
  db.put("greeting", "hello").value();
  std::cout << "kvstack " << kvstack::version << ": " << db.get("greeting").value().value() << "\n";
}
