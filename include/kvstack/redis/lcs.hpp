// Redis's LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]: the longest common
// subsequence of two strings, its length, or the ranges of each string it matches (from the end
// backwards, as Redis lists them). The classic O(n*m) table, bounded as Redis bounds it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <kvstack/redis/command.hpp>

namespace kvstack::inline v0::redis::cmd {

template <class C>
Reply lcs(C& c, Args a) {
  auto x = c.find(a[1]), y = c.find(a[2]);
  if ((x && x->type != Type::string) || (y && y->type != Type::string))
    return reply::error("ERR The specified keys must contain string values");
  bool len = false, idx = false, withmatchlen = false;
  std::int64_t minmatchlen = 0;
  for (std::size_t i = 3; i < a.size(); ++i) {
    if (iequals(a[i], "IDX")) idx = true;
    else if (iequals(a[i], "LEN")) len = true;
    else if (iequals(a[i], "WITHMATCHLEN")) withmatchlen = true;
    else if (iequals(a[i], "MINMATCHLEN") && i + 1 < a.size()) {
      auto n = parse_integer(a[++i]);
      if (!n) return reply::not_integer();
      minmatchlen = *n < 0 ? 0 : *n;
    } else {
      return reply::syntax();
    }
  }
  if (len && idx) return reply::error("ERR If you want both the length and indexes, please just use IDX.");
  const std::string empty;
  const std::string& s = x ? x->value : empty;
  const std::string& t = y ? y->value : empty;
  const std::size_t n = s.size(), m = t.size();
  if ((n + 1) * (m + 1) * sizeof(std::uint32_t) > max_string_size)
    return reply::error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
  // table[i * (m + 1) + j]: the LCS length of s[0, i) and t[0, j).
  std::vector<std::uint32_t> table((n + 1) * (m + 1), 0);
  auto at = [&](std::size_t i, std::size_t j) -> std::uint32_t& { return table[i * (m + 1) + j]; };
  for (std::size_t i = 1; i <= n; ++i)
    for (std::size_t j = 1; j <= m; ++j)
      at(i, j) = s[i - 1] == t[j - 1] ? at(i - 1, j - 1) + 1 : std::max(at(i - 1, j), at(i, j - 1));
  const std::uint32_t total = at(n, m);
  if (len) return reply::integer(total);
  // Walk back from the end, collecting the subsequence and its contiguous runs.
  std::string common(total, '\0');
  std::vector<Reply> matches;
  struct Run {
    std::size_t s_end, t_end, length;
  };
  std::optional<Run> run;
  auto emit = [&] {
    if (run && (minmatchlen == 0 || static_cast<std::int64_t>(run->length) >= minmatchlen)) {
      auto range = [](std::size_t end, std::size_t length) {
        return reply::array({reply::integer(static_cast<std::int64_t>(end - length + 1)),
                             reply::integer(static_cast<std::int64_t>(end))});
      };
      std::vector<Reply> match{range(run->s_end, run->length), range(run->t_end, run->length)};
      if (withmatchlen) match.push_back(reply::integer(static_cast<std::int64_t>(run->length)));
      matches.push_back(reply::array(std::move(match)));
    }
    run.reset();
  };
  for (std::size_t i = n, j = m, k = total; i > 0 && j > 0;) {
    if (s[i - 1] == t[j - 1]) {
      common[--k] = s[i - 1];
      if (run) ++run->length;
      else run = Run{i - 1, j - 1, 1};
      --i, --j;
    } else {
      emit();
      if (at(i - 1, j) > at(i, j - 1)) --i;
      else --j;
    }
  }
  emit();
  if (!idx) return reply::bulk(common);
  return reply::map({reply::bulk("matches"), reply::array(std::move(matches)), reply::bulk("len"),
                     reply::integer(total)});
}

}  // namespace kvstack::redis::cmd
