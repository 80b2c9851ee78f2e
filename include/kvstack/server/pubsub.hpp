// kvstack::redis::PubSub — Redis's Pub/Sub within one server: SUBSCRIBE, PSUBSCRIBE, UNSUBSCRIBE,
// PUNSUBSCRIBE, PUBLISH, PUBSUB CHANNELS/NUMSUB/NUMPAT. Messages go to each subscriber's Mailbox,
// which its connection drains (and which wakes it when it waits for a request). Messages are not
// stored: a subscriber gets those published while it is subscribed, as in Redis.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <kvstack/redis/glob.hpp>
#include <kvstack/redis/reply.hpp>

namespace kvstack::inline v0::redis {

/// Where a connection's Pub/Sub messages wait until it writes them. Thread-safe.
class Mailbox {
 public:
  /// `wake` is called (holding no lock of the mailbox) when a message arrives.
  explicit Mailbox(std::function<void()> wake) : wake_(std::move(wake)) {}

  void deliver(Reply message) {
    {
      std::lock_guard lock(mu_);
      messages_.push_back(std::move(message));
      waiting_.store(true);  // seq_cst: ordered before wake_'s own atomics (see Doorbell)
    }
    wake_();
  }
  /// The messages delivered since the last take, oldest first (no lock taken when there are none).
  std::vector<Reply> take() {
    if (!waiting_.load()) return {};
    std::lock_guard lock(mu_);
    waiting_.store(false, std::memory_order_relaxed);
    return std::exchange(messages_, {});
  }

  // What it is subscribed to; touched by its connection only.
  std::set<std::string> channels, patterns;
  std::size_t subscriptions() const { return channels.size() + patterns.size(); }

 private:
  std::mutex mu_;
  std::vector<Reply> messages_;
  std::atomic<bool> waiting_{false};
  std::function<void()> wake_;
};

/// The channels and patterns of a server's subscribers. Thread-safe.
class PubSub {
 public:
  /// Whether `name` is a Pub/Sub command.
  static bool owns(std::string_view name) {
    for (std::string_view n : {"subscribe", "unsubscribe", "psubscribe", "punsubscribe", "publish", "pubsub"})
      if (iequals(name, n)) return true;
    return false;
  }
  /// Whether `name` may run while subscribed, in RESP2 (where replies and messages share one stream).
  static bool allowed_while_subscribed(std::string_view name) {
    for (std::string_view n : {"subscribe", "unsubscribe", "psubscribe", "punsubscribe", "ping", "quit", "reset"})
      if (iequals(name, n)) return true;
    return false;
  }

  /// Runs a Pub/Sub command for the connection of `box`: its replies (SUBSCRIBE answers once per
  /// channel).
  std::vector<Reply> handle(Mailbox& box, Args a) {
    auto name = ascii_lower(a[0]);
    if (name == "publish") {
      if (a.size() != 3) return {reply::wrong_arity("publish")};
      return {reply::integer(publish(a[1], a[2]))};
    }
    if (name == "pubsub") return {introspect(a)};
    const bool pattern = name[0] == 'p';
    if (name == "subscribe" || name == "psubscribe") {
      if (a.size() < 2) return {reply::wrong_arity(name)};
      std::vector<Reply> out;
      for (std::size_t i = 1; i < a.size(); ++i) {
        std::lock_guard lock(mu_);
        if ((pattern ? box.patterns : box.channels).insert(a[i]).second) (pattern ? patterns_ : channels_)[a[i]].insert(&box);
        out.push_back(confirmation(name, a[i], box));
      }
      return out;
    }
    // UNSUBSCRIBE / PUNSUBSCRIBE [names]: none named, all of them.
    auto& mine = pattern ? box.patterns : box.channels;
    std::vector<std::string> names(a.begin() + 1, a.end());
    if (names.empty()) names.assign(mine.begin(), mine.end());
    std::vector<Reply> out;
    for (auto& n : names) {
      std::lock_guard lock(mu_);
      if (mine.erase(n)) forget(pattern ? patterns_ : channels_, n, box);
      out.push_back(confirmation(name, n, box));
    }
    if (out.empty()) out.push_back(reply::push({reply::bulk(name), reply::null(), reply::integer(0)}));
    return out;
  }

  /// Ends every subscription of `box` (its connection closes).
  void leave(Mailbox& box) {
    std::lock_guard lock(mu_);
    for (auto& c : box.channels) forget(channels_, c, box);
    for (auto& p : box.patterns) forget(patterns_, p, box);
    box.channels.clear();
    box.patterns.clear();
  }

  /// Delivers `message` on `channel`: to its subscribers, and to those of each pattern it
  /// matches. How many deliveries.
  std::int64_t publish(const std::string& channel, const std::string& message) {
    std::lock_guard lock(mu_);
    std::int64_t n = 0;
    if (auto it = channels_.find(channel); it != channels_.end())
      for (auto* box : it->second) {
        box->deliver(reply::push({reply::bulk("message"), reply::bulk(channel), reply::bulk(message)}));
        ++n;
      }
    for (auto& [pattern, boxes] : patterns_)
      if (glob_match(pattern, channel))
        for (auto* box : boxes) {
          box->deliver(
              reply::push({reply::bulk("pmessage"), reply::bulk(pattern), reply::bulk(channel), reply::bulk(message)}));
          ++n;
        }
    return n;
  }

 private:
  using Registry = std::map<std::string, std::set<Mailbox*>, std::less<>>;

  static Reply confirmation(std::string_view kind, const std::string& name, const Mailbox& box) {
    return reply::push(
        {reply::bulk(kind), reply::bulk(name), reply::integer(static_cast<std::int64_t>(box.subscriptions()))});
  }
  static void forget(Registry& registry, const std::string& name, Mailbox& box) {
    if (auto it = registry.find(name); it != registry.end() && it->second.erase(&box) && it->second.empty())
      registry.erase(it);
  }

  /// PUBSUB CHANNELS [pattern] | NUMSUB [channel...] | NUMPAT.
  Reply introspect(Args a) {
    auto sub = a.size() >= 2 ? ascii_lower(a[1]) : "";
    std::lock_guard lock(mu_);
    if (sub == "channels" && a.size() <= 3) {
      std::vector<Reply> out;
      for (auto& [c, boxes] : channels_)
        if (a.size() == 2 || glob_match(a[2], c)) out.push_back(reply::bulk(c));
      return reply::array(std::move(out));
    }
    if (sub == "numsub") {
      std::vector<Reply> out;
      for (std::size_t i = 2; i < a.size(); ++i) {
        auto it = channels_.find(a[i]);
        out.push_back(reply::bulk(a[i]));
        out.push_back(reply::integer(it == channels_.end() ? 0 : static_cast<std::int64_t>(it->second.size())));
      }
      return reply::array(std::move(out));
    }
    if (sub == "numpat" && a.size() == 2) return reply::integer(static_cast<std::int64_t>(patterns_.size()));
    if (a.size() < 2) return reply::wrong_arity("pubsub");
    return reply::error("ERR unknown subcommand or wrong number of arguments for '" + a[1] + "'. Try PUBSUB HELP.");
  }

  std::mutex mu_;
  Registry channels_, patterns_;
};

}  // namespace kvstack::redis
