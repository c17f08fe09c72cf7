#include "federation/placement.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "federation/deadline.h"
#include "scheduler/plan.h"

namespace rfarm::federation {

namespace {

std::size_t chunk_count(const PlacementJob& job) {
  const std::size_t size = std::max<std::uint32_t>(job.chunk_size, 1);
  return (job.frames.size() + size - 1) / size;
}

// The chunks [first, first + n) as a part.
PlacementPart make_part(std::size_t row, std::size_t first, std::size_t n, const PlacementJob& job, double finish) {
  PlacementPart p;
  p.row = row;
  p.first_chunk = first;
  p.chunks = n;
  const std::size_t size = std::max<std::uint32_t>(job.chunk_size, 1);
  const std::size_t from = first * size, to = std::min(job.frames.size(), (first + n) * size);
  p.frames.assign(job.frames.begin() + static_cast<std::ptrdiff_t>(from), job.frames.begin() + static_cast<std::ptrdiff_t>(to));
  p.frame_spec = scheduler::compact_frame_spec(p.frames);
  p.finish_s = finish;
  return p;
}

// `total` chunks shared over `members` (row indices, cheapest first) in proportion to their
// throughput: floor of each quota, then one more to the largest remainders (ties: the cheaper).
std::vector<std::size_t> proportional(const std::vector<QuoteRow>& rows, const std::vector<std::size_t>& members,
                                      std::size_t total) {
  std::vector<double> t;
  for (std::size_t m : members) t.push_back(rows[m].capacity.slots * rows[m].capacity.speed());
  const double sum = std::accumulate(t.begin(), t.end(), 0.0);
  std::vector<std::size_t> share(members.size());
  std::vector<std::pair<double, std::size_t>> rest;
  std::size_t given = 0;
  for (std::size_t i = 0; i < members.size(); ++i) {
    const double quota = static_cast<double>(total) * t[i] / sum;
    share[i] = std::min(total, static_cast<std::size_t>(std::floor(quota)));
    given += share[i];
    rest.push_back({quota - std::floor(quota), i});
  }
  std::stable_sort(rest.begin(), rest.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (std::size_t k = 0; given < total; k = (k + 1) % rest.size(), ++given) ++share[rest[k].second];
  while (given > total) {  // floating point cannot push the floors past the total; guard anyway
    auto it = std::max_element(share.begin(), share.end());
    --*it;
    --given;
  }
  return share;
}

struct SplitTry {
  std::vector<PlacementPart> parts;
  double finish = 0;  // the latest part's
};

// A proportional split over `members`; nullopt when fewer than two get chunks.
std::optional<SplitTry> split_over(const std::vector<QuoteRow>& rows, std::vector<std::size_t> members,
                                   const PlacementJob& job, double deadline_s) {
  const std::size_t total = chunk_count(job);
  for (;;) {
    if (members.size() < 2) return std::nullopt;
    const std::vector<std::size_t> share = proportional(rows, members, total);
    SplitTry t;
    std::vector<std::size_t> keep;
    std::size_t first = 0;
    bool all_meet = true;
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (share[i] == 0) continue;
      const double f = estimated_finish_s(rows[members[i]], share[i], job);
      t.parts.push_back(make_part(members[i], first, share[i], job, f));
      first += share[i];
      t.finish = std::max(t.finish, f);
      if (f <= deadline_s) keep.push_back(members[i]);
      else all_meet = false;
    }
    if (all_meet || keep.size() == members.size() || keep.size() < 2) {
      if (t.parts.size() < 2) return std::nullopt;
      return t;
    }
    // Leave out the peers whose part misses the deadline and share again among the others.
    members = keep;
  }
}

std::string names(const std::vector<QuoteRow>& rows, const std::vector<PlacementPart>& parts) {
  std::string out;
  for (const PlacementPart& p : parts) out += (out.empty() ? "" : ", ") + rows[p.row].peer;
  return out;
}

}  // namespace

PlacementJob placement_job(const scheduler::JobPlan& plan) {
  PlacementJob j;
  j.frames = plan.frames;
  j.chunk_size = std::max<std::uint32_t>(plan.request.chunk_size, 1);
  const double ps = static_cast<double>(plan.quote.gpu ? scheduler::kGpuPicosecondsPerSegment
                                                       : scheduler::kCpuPicosecondsPerSegment);
  j.frame_device_seconds = static_cast<double>(plan.quote.path_segments_per_frame) * ps / 1e12;
  return j;
}

double estimated_finish_s(const QuoteRow& row, std::size_t chunks, const PlacementJob& job) {
  if (chunks == 0) return static_cast<double>(row.capacity.estimated_start_s);
  const std::size_t per_chunk = std::min<std::size_t>(std::max<std::uint32_t>(job.chunk_size, 1), job.frames.size());
  const double chunk_s = static_cast<double>(per_chunk) * job.frame_device_seconds / row.capacity.speed();
  const std::size_t at_once = std::min<std::size_t>(std::max<std::uint32_t>(row.capacity.slots, 1), chunks);
  const std::size_t rounds = (chunks + at_once - 1) / at_once;
  return static_cast<double>(row.capacity.estimated_start_s) + static_cast<double>(rounds) * chunk_s;
}

Placement place(const std::vector<QuoteRow>& rows, const PlacementJob& job, std::optional<std::int64_t> deadline_unix,
                std::int64_t now_unix) {
  Placement out;
  // The quoted rows, cheapest first (stable: ties keep the listed order).
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < rows.size(); ++i)
    if (rows[i].refusal.empty()) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return rows[a].estimate < rows[b].estimate; });
  const std::size_t total = chunk_count(job);
  if (order.empty()) {
    out.reason = "no peer quoted";
    return out;
  }
  if (!deadline_unix) {
    out.kind = Placement::Kind::Cheapest;
    out.parts.push_back(make_part(order.front(), 0, total, job, estimated_finish_s(rows[order.front()], total, job)));
    return out;
  }
  const double deadline_s = static_cast<double>(*deadline_unix - now_unix);
  double best = -1;
  std::string best_how;
  for (std::size_t i : order) {
    const double f = estimated_finish_s(rows[i], total, job);
    if (f <= deadline_s) {
      out.kind = Placement::Kind::CheapestMeetingDeadline;
      out.parts.push_back(make_part(i, 0, total, job, f));
      return out;
    }
    if (best < 0 || f < best) {
      best = f;
      best_how = rows[i].peer + " alone";
    }
  }
  // No peer alone: the cheapest ones that can finish at least one chunk in time, in cost order,
  // one more at a time until a split meets the deadline.
  std::vector<std::size_t> useful;
  for (std::size_t i : order)
    if (estimated_finish_s(rows[i], 1, job) <= deadline_s) useful.push_back(i);
  for (std::size_t k = 2; k <= useful.size(); ++k) {
    const auto t = split_over(rows, std::vector<std::size_t>(useful.begin(), useful.begin() + static_cast<std::ptrdiff_t>(k)),
                              job, deadline_s);
    if (!t) continue;
    if (t->finish <= deadline_s) {
      out.kind = Placement::Kind::Split;
      out.parts = t->parts;
      return out;
    }
    if (t->finish < best) {
      best = t->finish;
      best_how = "split over " + names(rows, t->parts);
    }
  }
  // Every quoted peer together, proportionally, for the reason (it may be the earliest finish).
  if (const auto all = split_over(rows, order, job, 1e300); all && all->finish < best) {
    best = all->finish;
    best_how = "split over " + names(rows, all->parts);
  }
  out.best_finish_s = best;
  out.reason = "no peer can finish by the deadline " + format_utc_seconds(*deadline_unix) + " (in " +
               format_seconds(deadline_s) + "), alone or with others: the earliest estimated finish is " +
               format_utc_seconds(now_unix + static_cast<std::int64_t>(std::ceil(best))) + " (in " + format_seconds(best) +
               ", " + best_how + ")";
  return out;
}

std::string format_seconds(double seconds) {
  if (!(seconds > 0)) return "0s";
  const double capped = std::min(seconds, 1e12);
  const auto s = static_cast<std::int64_t>(std::ceil(capped));
  char buf[64];
  if (s < 60) std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
  else if (s < 3'600) std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  else if (s < 86'400)
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(s / 3'600), static_cast<long long>(s % 3'600 / 60));
  else std::snprintf(buf, sizeof buf, "%lldd%02lldh", static_cast<long long>(s / 86'400), static_cast<long long>(s % 86'400 / 3'600));
  return buf;
}

}  // namespace rfarm::federation
