#include "sim/network.hpp"

#include <algorithm>
#include <cassert>
#include <tuple>
#include <utility>

#include "sim/wire.hpp"

namespace tricache::sim {

Network::Network(std::uint32_t nodes)
    : nodes_(nodes),
      queues_(std::size_t{nodes} * nodes),
      min_ready_(std::size_t{nodes} * nodes, kForever),
      faults_(std::size_t{nodes} * nodes),
      node_faults_(nodes) {
    assert(nodes >= 1);
}

std::optional<std::string> Network::send(Link link, protocol::PeerMessage&& msg, std::uint64_t now_ms, Rng& rng,
                                         double codec_rate) {
    ++counters_.sent;
    std::optional<std::string> codec_error;
    if (rng.chance(codec_rate)) {
        ++counters_.codec_round_trips;
        codec_error = codec_round_trip(msg);
    }
    const LinkFaults& f = faults(link);
    if (f.blocked || !node(link.to).up || rng.chance(f.loss)) {
        ++counters_.lost;
        return codec_error;
    }
    const unsigned copies = rng.chance(f.duplicate) ? 2 : 1;
    const std::size_t i = index(link);
    auto& q = queues_[i];
    for (unsigned c = 0; c < copies; ++c) {
        const std::uint64_t delay = rng.between(f.delay_min_ms, std::max(f.delay_min_ms, f.delay_max_ms));
        const std::uint64_t seq = next_seq_++;
        min_ready_[i] = std::min(min_ready_[i], now_ms + delay);
        // The last copy takes the message over.
        if (c + 1 == copies) {
            q.emplace_back(seq, now_ms + delay, std::make_unique<protocol::PeerMessage>(std::move(msg)));
        } else {
            q.emplace_back(seq, now_ms + delay, std::make_unique<protocol::PeerMessage>(msg));
        }
    }
    if (copies == 2) ++counters_.duplicated;
    return codec_error;
}

std::size_t Network::pending_total() const {
    std::size_t n = 0;
    for (const auto& q : queues_) n += q.size();
    return n;
}

InFlight Network::take(Link link, std::uint64_t k) {
    assert(!collected_);
    auto& q = queues_[index(link)];
    assert(!q.empty());
    const auto it = q.begin() + static_cast<std::ptrdiff_t>(k % q.size());
    InFlight m = std::move(*it);
    q.erase(it);
    return m;
}

void Network::drop(Link link, std::uint64_t k) {
    (void)take(link, k);
    ++counters_.lost;
}

void Network::duplicate(Link link, std::uint64_t k) {
    assert(!collected_);
    auto& q = queues_[index(link)];
    assert(!q.empty());
    const InFlight& original = q[k % q.size()];  // same ready time: min_ready_ stays right
    InFlight copy{next_seq_++, original.ready_ms, std::make_unique<protocol::PeerMessage>(*original.msg)};
    q.push_back(std::move(copy));
    ++counters_.duplicated;
}

std::optional<Link> Network::find_link(Link start, const std::function<bool(Link)>& accept) const {
    const std::size_t total = queues_.size();
    const std::size_t first = index(start);
    for (std::size_t step = 0; step < total; ++step) {
        const std::size_t i = (first + step) % total;
        if (queues_[i].empty()) continue;
        const Link l = link_at(i);
        if (accept(l)) return l;
    }
    return std::nullopt;
}

std::optional<Link> Network::oldest_link(const std::function<bool(Link)>& accept) const {
    std::optional<Link> best;
    std::uint64_t best_seq = 0;
    for (std::size_t i = 0; i < queues_.size(); ++i) {
        if (queues_[i].empty()) continue;
        const Link l = link_at(i);
        if ((!best || queues_[i].front().seq < best_seq) && accept(l)) {
            best = l;
            best_seq = queues_[i].front().seq;
        }
    }
    return best;
}

std::size_t Network::collect_ready(std::uint64_t now_ms) {
    // Sequence numbers are unique, so (ready, seq) is a total order: sorting
    // small keys gives the same order as sorting the messages themselves.
    assert(!collected_);
    std::vector<ReadyKey>& keys = ready_keys_;
    std::vector<Touched>& touched = ready_queues_;  // queues that lose messages
    keys.clear();
    touched.clear();
    for (std::size_t i = 0; i < queues_.size(); ++i) {
        if (min_ready_[i] > now_ms) continue;  // empty, or nothing ready yet
        const auto& q = queues_[i];
        const LinkFaults& f = faults_[i];
        if (f.blocked || now_ms < f.clogged_until_ms || !can_step(link_at(i).to, now_ms)) continue;
        const std::size_t before = keys.size();
        std::size_t at = 0;
        std::uint64_t rest = kForever;  // what stays after remove_ready (sends meanwhile lower it)
        for (const InFlight& m : q) {  // an iterator, not q[at]: no block lookup per message
            if (m.ready_ms <= now_ms) {
                keys.push_back(ReadyKey{m.ready_ms, m.seq, i, at});
            } else {
                rest = std::min(rest, m.ready_ms);
            }
            ++at;
        }
        min_ready_[i] = rest;
        if (keys.size() != before) touched.push_back(Touched{i, keys.size() - before});
    }
    if (keys.empty()) return 0;
    collected_ = true;
    std::sort(keys.begin(), keys.end(), [](const ReadyKey& a, const ReadyKey& b) {
        return std::tie(a.ready_ms, a.seq) < std::tie(b.ready_ms, b.seq);
    });
    return keys.size();
}

void Network::remove_ready() {
    if (!collected_) return;
    collected_ = false;
    // Only sends happened since collect_ready, and they append: every
    // collected message is still at its place. Sequence numbers start at 1,
    // so 0 marks exactly the collected ones (a message sent meanwhile may be
    // ready by now too, and must stay).
    constexpr std::uint64_t kTaken = 0;
    for (const ReadyKey& k : ready_keys_) queues_[k.queue][k.at].seq = kTaken;
    // Collected messages gather at the front: popping those first spares
    // moving every later message to close the gap.
    for (const Touched& t : ready_queues_) {
        auto& q = queues_[t.queue];
        std::size_t left = t.taken;
        for (; left != 0 && !q.empty() && q.front().seq == kTaken; --left) q.pop_front();
        if (left != 0) std::erase_if(q, [](const InFlight& m) { return m.seq == kTaken; });  // only then a gap
    }
    ready_keys_.clear();
    ready_queues_.clear();
}

void Network::unblock_all() {
    for (auto& f : faults_) f.blocked = false;
}

void Network::crash(NodeId n) {
    assert(!collected_);
    node(n).up = false;
    for (NodeId m = 1; m <= nodes_; ++m) {
        if (m == n) continue;
        for (const Link l : {Link{n, m}, Link{m, n}}) {
            auto& q = queues_[index(l)];
            counters_.lost += q.size();
            q.clear();
            min_ready_[index(l)] = kForever;
        }
    }
}

void Network::heal() {
    for (auto& f : faults_) f = LinkFaults{};
    for (auto& n : node_faults_) n.paused_until_ms = 0;
}

}  // namespace tricache::sim
