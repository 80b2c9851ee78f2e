// A value type with a constructor: one error saying why it is not an aggregate.
// expect: T is a class but not an aggregate, so its fields cannot be reflected: it has a user-declared constructor
#include <string>
#include <utility>

#include <kvstack/kvstack.hpp>

struct Session {
#ifdef KVSTACK_COMPILE_FAIL
  explicit Session(std::string u) : user(std::move(u)) {}
#endif
  std::string user;
};

int main() {
  kvstack::MemoryBackend db;
  kvstack::NamespacedRegistry<kvstack::MemoryBackend, Session> sessions{db, "session"};
  sessions.put("a", Session{"ann"}).value();
  return sessions.get("a").value() ? 0 : 1;
}
