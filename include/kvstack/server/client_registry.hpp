// kvstack::redis::ClientRegistry — the connections a server has, for CLIENT LIST, CLIENT INFO and
// CLIENT KILL: what each one is (address, name, database, last command, state), as its
// connection last reported it, and how to close it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace kvstack::inline v0::redis {

/// What CLIENT LIST shows of a connection.
struct ClientView {
  std::uint64_t id = 0;
  std::string addr, laddr, name, last_command = "NULL";
  int db = 0, protocol = 2;
  std::size_t subscriptions = 0, patterns = 0;
  bool blocked = false, in_multi = false;
  std::chrono::steady_clock::time_point created = std::chrono::steady_clock::now(), last_active = created;
};

/// The server's connections. Thread-safe: a connection reports its state after each batch, any
/// thread reads or kills.
class ClientRegistry {
 public:
  /// Adds a connection; `kill` closes it (from any thread; called holding the registry's lock).
  void add(ClientView view, std::function<void()> kill) {
    std::lock_guard lock(mu_);
    auto id = view.id;
    entries_[id] = {std::move(view), std::move(kill)};
  }
  void remove(std::uint64_t id) {
    std::lock_guard lock(mu_);
    entries_.erase(id);
  }
  /// Applies `change` to connection `id`'s view (if it is still there).
  template <class F>
  void update(std::uint64_t id, F&& change) {
    std::lock_guard lock(mu_);
    if (auto it = entries_.find(id); it != entries_.end()) change(it->second.view);
  }
  /// Every connection's view, by id.
  std::vector<ClientView> list() const {
    std::lock_guard lock(mu_);
    std::vector<ClientView> out;
    for (auto& [id, e] : entries_) out.push_back(e.view);
    return out;
  }
  /// Closes the connections `pick` selects (calling their `kill` under the lock, so that no
  /// connection leaves meanwhile); how many.
  template <class Pick>
  std::size_t kill(Pick&& pick) {
    std::lock_guard lock(mu_);
    std::size_t n = 0;
    for (auto& [id, e] : entries_)
      if (pick(e.view)) e.kill(), ++n;
    return n;
  }

  /// One line of CLIENT LIST for `v`, with Redis's fields (those kvstack has).
  static std::string line(const ClientView& v) {
    using std::chrono::duration_cast, std::chrono::seconds;
    const auto now = std::chrono::steady_clock::now();
    std::string flags;
    if (v.blocked) flags += 'b';
    if (v.subscriptions + v.patterns) flags += 'P';
    if (v.in_multi) flags += 'x';
    if (flags.empty()) flags = "N";
    return "id=" + std::to_string(v.id) + " addr=" + v.addr + " laddr=" + v.laddr + " name=" + v.name +
           " age=" + std::to_string(duration_cast<seconds>(now - v.created).count()) +
           " idle=" + std::to_string(duration_cast<seconds>(now - v.last_active).count()) + " flags=" + flags +
           " db=" + std::to_string(v.db) + " sub=" + std::to_string(v.subscriptions) +
           " psub=" + std::to_string(v.patterns) + " multi=" + (v.in_multi ? "0" : "-1") + " cmd=" + v.last_command +
           " user=default resp=" + std::to_string(v.protocol) + "\n";
  }

 private:
  struct Entry {
    ClientView view;
    std::function<void()> kill;
  };
  mutable std::mutex mu_;
  std::map<std::uint64_t, Entry> entries_;
};

}  // namespace kvstack::redis
