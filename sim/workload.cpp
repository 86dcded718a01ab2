#include "sim/workload.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace tricache::sim {

namespace {

// The text std::to_string gives, appended in place: no temporary string per number.
void append_decimal(std::string& s, std::uint64_t v) {
    std::array<char, 20> buf{};
    const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v);
    s.append(buf.data(), r.ptr);
}

}  // namespace

std::string Workload::key(Rng& rng) const {
    std::string k(1, 'k');
    append_decimal(k, rng.below(std::max(1u, params_.keys)));
    return k;
}

std::string Workload::value(Rng& rng, protocol::ClientId client, protocol::RequestId request, std::size_t op) {
    // The length is drawn first: building the prefix draws nothing, so the draws stay in the same order.
    const std::uint64_t len = rng.chance(0.1) ? rng.between(params_.max_value_len, params_.big_value_len)
                                              : rng.below(params_.max_value_len + 1);
    std::string v;
    v.reserve(std::max<std::uint64_t>(len, 32));
    v += 'c';
    append_decimal(v, client);
    v += 'r';
    append_decimal(v, request);
    v += 'o';
    append_decimal(v, op);
    if (v.size() < len) v.append(len - v.size(), static_cast<char>('a' + rng.below(26)));
    return v;
}

protocol::Op Workload::single_op(Rng& rng, protocol::ClientId client, protocol::RequestId request, std::size_t op) {
    const std::uint32_t total = params_.w_get + params_.w_set + params_.w_del + params_.w_cas + params_.w_ttl;
    std::uint64_t pick = rng.below(std::max(1u, total));
    std::string k = key(rng);
    if (pick >= total - params_.w_ttl) return ttl_op(rng, std::move(k), client, request, op);
    if (pick < params_.w_get) return protocol::Get{std::move(k)};
    pick -= params_.w_get;
    if (pick < params_.w_set) {
        std::string v = value(rng, client, request, op);
        last_written_[k] = v;
        return protocol::Set{std::move(k), std::move(v)};
    }
    pick -= params_.w_set;
    if (pick < params_.w_del) return protocol::Del{std::move(k)};
    std::optional<std::string> expected;
    const auto known = last_written_.find(k);
    if (known != last_written_.end() && rng.chance(0.7)) expected = known->second;
    std::string v = value(rng, client, request, op);
    last_written_[k] = v;
    return protocol::Cas{std::move(k), std::move(expected), std::move(v)};
}

protocol::Op Workload::ttl_op(Rng& rng, std::string k, protocol::ClientId client, protocol::RequestId request,
                              std::size_t op) {
    // Relative times, mostly: they expire within the run whatever the nodes' clocks say.
    const auto ttl = [&] {
        const auto ms = static_cast<std::int64_t>(rng.below(params_.max_ttl_ms + 1));
        return protocol::Expiry{protocol::ExpiryKind::After, rng.chance(0.05) ? -ms : ms};
    };
    switch (rng.below(5)) {
        case 0:
        case 1: {
            std::string v = value(rng, client, request, op);
            last_written_[k] = v;
            const protocol::Expiry e = rng.chance(0.15) ? protocol::Expiry{protocol::ExpiryKind::Keep, 0} : ttl();
            return protocol::Set{std::move(k), std::move(v), e};
        }
        case 2: {
            const auto cond = static_cast<protocol::ExpireCond>(rng.below(6));
            return protocol::Expire{std::move(k), ttl(), cond};
        }
        case 3: return protocol::Persist{std::move(k)};
        default: return protocol::Ttl{std::move(k)};
    }
}

GeneratedRequest Workload::next(Rng& rng, protocol::ClientId client, protocol::RequestId request) {
    GeneratedRequest out;
    if (rng.chance(params_.invalid)) {
        switch (rng.below(3)) {
            case 0: out.body = protocol::OpsRequest{{protocol::Get{""}}}; break;  // BAD_REQUEST
            case 1:
                out.body = protocol::OpsRequest{
                    {protocol::Set{key(rng), std::string(std::max<std::uint64_t>(params_.too_large_value, 1), 'x')}}};
                break;
            default:
                out.body = protocol::OpsRequest{{protocol::Get{key(rng)}}};
                out.wrong_cluster = true;
                break;
        }
        return out;
    }
    const std::uint32_t total = params_.w_get + params_.w_local_get + params_.w_set + params_.w_del + params_.w_cas +
                                params_.w_multi;
    std::uint64_t pick = rng.below(std::max(1u, total));
    if (pick < params_.w_local_get) {
        out.body = protocol::LocalGetRequest{key(rng)};
        return out;
    }
    pick -= params_.w_local_get;
    protocol::OpsRequest ops;
    const std::size_t n = pick < params_.w_multi ? rng.between(2, 4) : 1;
    for (std::size_t i = 0; i < n; ++i) ops.ops.push_back(single_op(rng, client, request, i));
    out.body = std::move(ops);
    return out;
}

}  // namespace tricache::sim
