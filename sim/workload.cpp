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
    const std::uint32_t total = params_.w_get + params_.w_set + params_.w_del + params_.w_cas;
    std::uint64_t pick = rng.below(std::max(1u, total));
    std::string k = key(rng);
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
