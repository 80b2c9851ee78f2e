// Must not compile: the registry names the operation this backend lacks (see tests/CMakeLists.txt).
#include <kvstack/kvstack.hpp>

struct NoErase {
  using transaction = kvstack::MemoryBackend::Transaction;
  kvstack::Result<std::optional<std::string>> get(std::string_view) const;
  template <class F>
  kvstack::Result<bool> get(std::string_view, F&&) const;
  kvstack::Result<void> put(std::string_view, std::string_view);
  kvstack::MemoryBackend::Scan scan(const kvstack::KeyRange&) const;
  kvstack::Result<void> write(const kvstack::WriteBatch&);
  template <class F>
  kvstack::Result<void> transact(F&&);
};

int main() {
  NoErase db;
  kvstack::NamespacedRegistry<NoErase, int> registry{db, "ns"};
}
