// kvstack::raft::Membership — who votes in a Raft group and who only follows (learners), how it
// changes one server at a time, and how it is written in the log and in snapshot metadata.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <kvstack/core/result.hpp>

namespace kvstack::inline v0::raft {

/// One change of membership. Changes go one server at a time: every change, and every sequence
/// of them (add a learner, let it catch up, promote it; remove a server), keeps any two
/// majorities of consecutive configurations overlapping, so no joint configuration is needed.
struct MembershipChange {
  enum class Kind : unsigned char {
    add_learner,  ///< a new member that receives the log but does not vote
    promote,      ///< a learner becomes a voter
    remove,       ///< a voter or learner leaves
  };
  Kind kind = Kind::add_learner;
  std::uint64_t id = 0;
};

/// The voters and learners of a group, each list sorted.
struct Membership {
  std::vector<std::uint64_t> voters;
  std::vector<std::uint64_t> learners;
  friend bool operator==(const Membership&, const Membership&) = default;

  bool is_voter(std::uint64_t id) const { return std::binary_search(voters.begin(), voters.end(), id); }
  bool is_learner(std::uint64_t id) const { return std::binary_search(learners.begin(), learners.end(), id); }
  bool contains(std::uint64_t id) const { return is_voter(id) || is_learner(id); }
  /// How many voters make a majority.
  std::size_t quorum() const { return voters.size() / 2 + 1; }

  /// The membership after `c`, or why `c` does not apply to this one.
  Result<Membership> after(const MembershipChange& c) const {
    Membership m = *this;
    auto erase = [](std::vector<std::uint64_t>& v, std::uint64_t id) { v.erase(std::remove(v.begin(), v.end(), id), v.end()); };
    auto insert = [](std::vector<std::uint64_t>& v, std::uint64_t id) { v.insert(std::upper_bound(v.begin(), v.end(), id), id); };
    const std::string who = "raft: server " + std::to_string(c.id);
    switch (c.kind) {
      case MembershipChange::Kind::add_learner:
        if (c.id == 0) return Error{errc::invalid_argument, "raft: server ids are non-zero"};
        if (contains(c.id)) return Error{errc::invalid_argument, who + " is a member already"};
        insert(m.learners, c.id);
        break;
      case MembershipChange::Kind::promote:
        if (!is_learner(c.id)) return Error{errc::invalid_argument, who + " is not a learner"};
        erase(m.learners, c.id);
        insert(m.voters, c.id);
        break;
      case MembershipChange::Kind::remove:
        if (!contains(c.id)) return Error{errc::invalid_argument, who + " is not a member"};
        if (voters.size() == 1 && is_voter(c.id)) return Error{errc::invalid_argument, who + " is the last voter"};
        erase(m.voters, c.id);
        erase(m.learners, c.id);
        break;
    }
    return m;
  }

  /// "v1,2,3;l4": the voters, then the learners.
  std::string encode() const {
    std::string out = "v";
    auto list = [&](const std::vector<std::uint64_t>& ids) {
      for (std::size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + std::to_string(ids[i]);
    };
    list(voters);
    out += ";l";
    list(learners);
    return out;
  }
  /// Reads what encode wrote; nullopt if `s` is not that.
  static std::optional<Membership> decode(std::string_view s) {
    Membership m;
    auto list = [](std::string_view text, std::vector<std::uint64_t>& ids) {
      while (!text.empty()) {
        std::uint64_t id = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
        if (ec != std::errc{} || id == 0) return false;
        ids.push_back(id);
        text.remove_prefix(static_cast<std::size_t>(end - text.data()));
        if (!text.empty() && text.front() == ',' && text.size() > 1) text.remove_prefix(1);
        else if (!text.empty()) return false;
      }
      return std::is_sorted(ids.begin(), ids.end());
    };
    const auto semi = s.find(";l");
    if (!s.starts_with('v') || semi == std::string_view::npos) return std::nullopt;
    if (!list(s.substr(1, semi - 1), m.voters) || !list(s.substr(semi + 2), m.learners)) return std::nullopt;
    return m;
  }
};

/// Raft's own log entries: an empty command is a leader's no-op; a command starting with a zero
/// byte carries a membership. Commands the application proposes may not start with one.
inline constexpr char own_entry_mark = '\0';

inline std::string membership_command(const Membership& m) { return own_entry_mark + m.encode(); }
/// The membership a command carries, if it carries one.
inline std::optional<Membership> membership_in(std::string_view command) {
  if (command.empty() || command.front() != own_entry_mark) return std::nullopt;
  return Membership::decode(command.substr(1));
}

}  // namespace kvstack::raft
