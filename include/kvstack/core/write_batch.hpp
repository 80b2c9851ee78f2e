// kvstack::WriteBatch — puts and erases applied together, all or none, in the order given.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace kvstack::inline v0 {

/// An ordered list of writes that a backend applies atomically (`backend.write(batch)`).
/// A later operation on the same key wins over an earlier one.
class WriteBatch {
 public:
  enum class Kind : unsigned char { put, erase };
  struct Operation {
    Kind kind;
    std::string key;
    std::string value;  ///< empty for erase
  };

  WriteBatch& put(std::string_view key, std::string_view value) {
    ops_.push_back({Kind::put, std::string(key), std::string(value)});
    return *this;
  }
  WriteBatch& erase(std::string_view key) {
    ops_.push_back({Kind::erase, std::string(key), {}});
    return *this;
  }

  std::size_t size() const noexcept { return ops_.size(); }
  bool empty() const noexcept { return ops_.empty(); }
  void clear() noexcept { ops_.clear(); }
  auto begin() const noexcept { return ops_.begin(); }
  auto end() const noexcept { return ops_.end(); }

 private:
  std::vector<Operation> ops_;
};

}  // namespace kvstack
