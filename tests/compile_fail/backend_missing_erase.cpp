// A type that is not a Backend: the registry names the operation it lacks, in one line.
// expect: kvstack::Backend: missing `erase
#include <kvstack/kvstack.hpp>

struct NoErase {
  using transaction = kvstack::MemoryBackend::transaction;
  kvstack::Result<std::optional<std::string>> get(std::string_view) const;
  template <class F>
  kvstack::Result<bool> get(std::string_view, F&&) const;
  kvstack::Result<void> put(std::string_view, std::string_view);
#ifndef KVSTACK_COMPILE_FAIL
  kvstack::Result<bool> erase(std::string_view);
#endif
  kvstack::MemoryBackend::Scan scan(const kvstack::KeyRange&) const;
  kvstack::Result<void> write(const kvstack::WriteBatch&);
  template <class F>
  kvstack::Result<void> transact(F&&);
};

int main() {
  NoErase db;
  kvstack::NamespacedRegistry<NoErase, int> registry{db, "ns"};
}
