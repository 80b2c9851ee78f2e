// Exactly-once apply: how a replicated shard lays out its App (user data and the applied mark
// side by side), the command format of a write, and applying log entries so that the applied
// index commits in the same transaction as the writes it covers.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <kvstack/codec/key.hpp>
#include <kvstack/core/concepts.hpp>
#include <kvstack/core/key_range.hpp>
#include <kvstack/core/result.hpp>
#include <kvstack/detail/varint.hpp>
#include <kvstack/shard/log.hpp>

namespace kvstack::inline v0::detail {

/// The App of a replicated shard: user key k is stored as `'d' ++ k`; `'m' "applied"` holds the
/// index and term of the last applied entry; `'m' "restoring"` exists while a snapshot is being
/// received (the data is then incomplete).
struct AppLayout {
  static constexpr char data = 'd';
  static constexpr std::string_view applied_key = "mapplied";
  static constexpr std::string_view restoring_key = "mrestoring";

  /// `'d' ++ key` in `buf`, viewed.
  static std::string_view data_key(std::string_view key, std::string& buf) {
    buf.assign(1, data);
    buf += key;
    return buf;
  }
};

/// The index and term of the last entry applied to an App.
struct AppliedMark {
  std::uint64_t index = 0;
  std::uint64_t term = 0;
  bool restoring = false;  ///< a snapshot was being received: the data is incomplete
};

inline std::string encode_mark(std::uint64_t index, std::uint64_t term) {
  std::string v;
  KeyCodec<std::uint64_t>::encode(index, v);
  KeyCodec<std::uint64_t>::encode(term, v);
  return v;
}

/// Reads the applied mark through any reader with a zero-copy get (an App or a transaction).
template <class Reader>
Result<AppliedMark> read_mark(const Reader& r) {
  AppliedMark mark;
  bool bad = false;
  auto got = r.get(AppLayout::applied_key, [&](std::string_view v) {
    if (v.size() != 16) {
      bad = true;
      return;
    }
    KeyCodec<std::uint64_t>::decode(v, mark.index);
    KeyCodec<std::uint64_t>::decode(v, mark.term);
  });
  if (!got) return got.error();
  if (bad) return Error{errc::corruption, "shard: the applied index in the App is not 16 bytes"};
  auto restoring = r.get(AppLayout::restoring_key, [](std::string_view) {});
  if (!restoring) return restoring.error();
  mark.restoring = restoring.value();
  return mark;
}

/// Erases all user data (a snapshot replaces it).
template <class Tx>
Result<void> erase_data(Tx& tx) {
  std::vector<std::string> keys;
  {
    static constexpr char prefix = AppLayout::data;
    auto scan = tx.scan(KeyRange::prefix({&prefix, 1}));
    for (auto&& [k, v] : scan) keys.emplace_back(k);
    if (auto st = scan.status(); !st) return st;
  }
  for (const auto& k : keys)
    if (auto r = tx.erase(k); !r) return r.error();
  return success();
}

/// Empties an App whose snapshot was cut short: no data, nothing applied.
template <class App>
Result<void> reset_app(App& app) {
  return app.transact([](auto& tx) -> Result<void> {
    if (auto r = erase_data(tx); !r) return r;
    if (auto r = tx.erase(AppLayout::applied_key); !r) return r.error();
    if (auto r = tx.erase(AppLayout::restoring_key); !r) return r.error();
    return success();
  });
}

/// A write command: a version byte, then per write a kind byte ('p' put, 'e' erase), the key
/// and, for a put, the value (each varint-length-prefixed).
class CommandWriter {
 public:
  CommandWriter() { out_.push_back(version); }
  void put(std::string_view key, std::string_view value) {
    out_.push_back('p');
    bytes(key);
    bytes(value);
  }
  void erase(std::string_view key) {
    out_.push_back('e');
    bytes(key);
  }
  std::string take() && { return std::move(out_); }

  static constexpr char version = 1;

 private:
  void bytes(std::string_view s) {
    put_varint(s.size(), out_);
    out_ += s;
  }
  std::string out_;
};

/// Calls `fn(key, value)` for each write of `command` in order (value empty for an erase). An
/// empty command (a policy's own entry) has none.
template <class F>
Result<void> for_each_write(std::string_view command, std::uint64_t index, F&& fn) {
  auto bad = [&] {
    return Error{errc::corruption, "shard: the command of log entry " + std::to_string(index) + " is malformed"};
  };
  if (command.empty()) return success();
  if (command.front() != CommandWriter::version) return bad();
  command.remove_prefix(1);
  while (!command.empty()) {
    const char kind = command.front();
    command.remove_prefix(1);
    std::string_view k, v;
    if (!take_bytes(command, k)) return bad();
    if (kind == 'p') {
      if (!take_bytes(command, v)) return bad();
      if (Result<void> r = fn(k, std::optional<std::string_view>(v)); !r) return r;
    } else if (kind == 'e') {
      if (Result<void> r = fn(k, std::optional<std::string_view>()); !r) return r;
    } else {
      return bad();
    }
  }
  return success();
}

/// Applies the writes of `command` to the transaction `tx`, under the data prefix.
template <class Tx>
Result<void> apply_command(std::string_view command, Tx& tx, std::uint64_t index) {
  std::string key;
  return for_each_write(command, index, [&](std::string_view k, std::optional<std::string_view> v) -> Result<void> {
    AppLayout::data_key(k, key);
    if (v) return tx.put(key, *v);
    if (auto r = tx.erase(key); !r) return r.error();
    return success();
  });
}

/// Applies `entries` (in index order) to `app` in one transaction, with the applied mark: those
/// at or below the mark are skipped (already applied), and a gap after it is an error. An App
/// in the middle of a snapshot counts as empty. Returns the new mark.
template <class App>
Result<AppliedMark> apply_entries(App& app, std::span<const LogEntry> entries) {
  return app.transact([&](auto& tx) -> Result<AppliedMark> {
    auto mark = read_mark(tx);
    if (!mark) return mark.error();
    std::uint64_t applied = mark.value().index, term = mark.value().term;
    if (mark.value().restoring) {  // an unfinished snapshot is as good as nothing: start from entry 1
      if (auto r = erase_data(tx); !r) return r.error();
      if (auto r = tx.erase(AppLayout::restoring_key); !r) return r.error();
      applied = term = 0;
    }
    for (const auto& e : entries) {
      if (e.index <= applied) continue;  // applied before (a retry, or a replay after a crash)
      if (e.index != applied + 1)
        return Error{errc::invalid_argument, "shard: entry " + std::to_string(e.index) +
                                                 " cannot apply: the App has applied up to " + std::to_string(applied)};
      if (auto r = apply_command(e.command, tx, e.index); !r) return r.error();
      applied = e.index;
      term = e.term;
    }
    if (applied != mark.value().index)
      if (auto r = tx.put(AppLayout::applied_key, encode_mark(applied, term)); !r) return r.error();
    return AppliedMark{applied, term};
  });
}

}  // namespace kvstack::detail
