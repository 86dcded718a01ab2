// R-HISTORY-ORDER: which of two records a node may install. Histories are
// ordered by who started them, never by their epochs: a proposer restarted
// through a total failure may start a newer history below an older one.
#pragma once

#include <tuple>

#include "protocol/messages.hpp"

namespace tricache::coordinator {

// The `history` epoch names a history everywhere (headers carry only it); two
// rebootstraps whose lanes collide share a name (a limit R-HISTORY states).
inline bool same_history(const protocol::View& a, const protocol::View& b) { return a.history == b.history; }

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
