// R-HISTORY-ORDER: which of two records a node may install. Histories are
// ordered by who started them, never by their epochs: a proposer restarted
// through a total failure may start a newer history below an older one.
#pragma once

#include <tuple>

#include "coordinator/hash.hpp"
#include "protocol/messages.hpp"

namespace tricache::coordinator {

// R-HISTORY: a history's identity is its first epoch with this tag, a hash of
// who started it. Two rebootstraps whose lanes collide start at one epoch, but
// never with one birth (they share a promiser whose stamps differ). The
// bootstrap history, the only one at epoch 1, and "no history" (0) have tag 0.
inline std::uint64_t history_tag(const protocol::View& v) {
    if (v.history <= 1) return 0;
    Hasher h;
    h.add(v.history);
    for (const auto& b : v.birth) h.add(b.node).add(b.incarnation).add(b.count);
    return h.value() | 1;  // never 0, the tag of no history
}

inline bool same_history(const protocol::View& a, const protocol::View& b) {
    return a.history == b.history && history_tag(a) == history_tag(b);
}
// Whether a message's sender is in the history of `view`; `tag` is history_tag(view).
inline bool same_history(const protocol::PeerHeader& h, const protocol::View& view, std::uint64_t tag) {
    return h.history == view.history && h.history_tag == tag;
}

// Whether history `b` started after history `a`. Both births list a majority of
// the cluster, so they share a node, and that node promised the later one at a
// later incarnation or with a higher promise count. The first shared node (by
// id) that differs decides, so every node draws the same conclusion.
inline bool history_newer(const protocol::View& b, const protocol::View& a) {
    if (a.history == 0 || b.history == 0) return a.history == 0 && b.history != 0;  // 0: in no history
    auto i = a.birth.begin();
    auto j = b.birth.begin();
    while (i != a.birth.end() && j != b.birth.end()) {
        if (i->node < j->node) {
            ++i;
        } else if (j->node < i->node) {
            ++j;
        } else {
            const auto older = std::tie(i->incarnation, i->count);
            const auto later = std::tie(j->incarnation, j->count);
            if (older != later) return later > older;
            ++i;
            ++j;
        }
    }
    return b.history > a.history;
}

// R-VC-INSTALL with R-HISTORY-ORDER: a record is newer than a node's view if it
// is later in the same history, or of a newer history.
inline bool newer_record(const protocol::View& incoming, const protocol::View& mine) {
    return same_history(incoming, mine) ? incoming.epoch > mine.epoch : history_newer(incoming, mine);
}

}  // namespace tricache::coordinator
