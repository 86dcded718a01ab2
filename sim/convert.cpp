#include "sim/convert.hpp"

#include <type_traits>

namespace tricache::sim {

namespace {
checker::TimeKind time_kind(protocol::ExpiryKind k) {
    switch (k) {
        case protocol::ExpiryKind::None: return checker::TimeKind::None;
        case protocol::ExpiryKind::Keep: return checker::TimeKind::Keep;
        case protocol::ExpiryKind::At: return checker::TimeKind::At;
        case protocol::ExpiryKind::After: return checker::TimeKind::After;
    }
    return checker::TimeKind::None;
}
}  // namespace

checker::Op to_checker(const protocol::Op& op) {
    return std::visit(
        [](const auto& o) -> checker::Op {
            using T = std::decay_t<decltype(o)>;
            if constexpr (std::is_same_v<T, protocol::Get>) {
                return checker::Op::get(o.key);
            } else if constexpr (std::is_same_v<T, protocol::Set>) {
                return checker::Op::set_expiring(o.key, o.value, time_kind(o.expiry.kind), o.expiry.ms);
            } else if constexpr (std::is_same_v<T, protocol::Del>) {
                return checker::Op::del(o.key);
            } else if constexpr (std::is_same_v<T, protocol::Cas>) {
                return checker::Op::cas(o.key, o.expected, o.value);
            } else if constexpr (std::is_same_v<T, protocol::Incr>) {
                return checker::Op::incr(o.key, o.delta);
            } else if constexpr (std::is_same_v<T, protocol::Append>) {
                return checker::Op::append(o.key, o.value);
            } else if constexpr (std::is_same_v<T, protocol::Exists>) {
                return checker::Op::exists(o.key);
            } else if constexpr (std::is_same_v<T, protocol::Require>) {
                return checker::Op::require(o.key, o.present);
            } else if constexpr (std::is_same_v<T, protocol::Count>) {
                return checker::Op::count_entries();
            } else if constexpr (std::is_same_v<T, protocol::Scan>) {
                return checker::Op::scan(o.cursor, o.count);
            } else if constexpr (std::is_same_v<T, protocol::Clear>) {
                return checker::Op::clear();
            } else if constexpr (std::is_same_v<T, protocol::Expire>) {
                return checker::Op::expire(o.key, time_kind(o.when.kind), o.when.ms,
                                           static_cast<checker::Condition>(static_cast<std::uint8_t>(o.cond)));
            } else if constexpr (std::is_same_v<T, protocol::Persist>) {
                return checker::Op::persist(o.key);
            } else if constexpr (std::is_same_v<T, protocol::Ttl>) {
                return checker::Op::ttl(o.key);
            } else {
                static_assert(std::is_same_v<T, protocol::Purge>);
                return checker::Op::purge(o.max);
            }
        },
        op);
}

std::vector<checker::Op> to_checker(const std::vector<protocol::Op>& ops) {
    std::vector<checker::Op> out;
    out.reserve(ops.size());
    for (const auto& op : ops) out.push_back(to_checker(op));
    return out;
}

checker::OpResult to_checker(const protocol::OpResult& result) { return checker::OpResult{result.ok, result.value}; }

std::vector<checker::OpResult> to_checker(const std::vector<protocol::OpResult>& results) {
    std::vector<checker::OpResult> out;
    out.reserve(results.size());
    for (const auto& r : results) out.push_back(to_checker(r));
    return out;
}

checker::Command to_checker(const protocol::Command& command) {
    return checker::Command{command.client, command.request, to_checker(command.ops), command.stamp_ms};
}

checker::TxKey to_checker(const protocol::TxId& tx) { return checker::TxKey{tx.coordinator, tx.incarnation, tx.seq}; }

checker::Stamp to_checker(const protocol::Timestamp& ts) { return checker::Stamp{ts.counter, ts.node}; }

checker::LogEntry to_checker(const coordinator::DeliveredTx& delivered) {
    checker::LogEntry entry;
    entry.tx = to_checker(delivered.tx);
    entry.final_ts = to_checker(delivered.final_ts);
    entry.epoch = delivered.epoch;
    if (delivered.batch) {
        entry.commands.reserve(delivered.batch->size());
        for (const auto& cmd : *delivered.batch) entry.commands.push_back(to_checker(cmd));
    }
    return entry;
}

}  // namespace tricache::sim
