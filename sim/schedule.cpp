#include "sim/schedule.hpp"

#include "protocol/codec.hpp"

#include <cctype>
#include <sstream>
#include <type_traits>

namespace tricache::sim {

namespace {

std::string describe_op(const protocol::Op& op) {
    return std::visit(
        [](const auto& o) -> std::string {
            using T = std::decay_t<decltype(o)>;
            if constexpr (std::is_same_v<T, protocol::Get>) {
                return "GET " + o.key;
            } else if constexpr (std::is_same_v<T, protocol::Set>) {
                return "SET " + o.key + "=" + o.value;
            } else if constexpr (std::is_same_v<T, protocol::Del>) {
                return "DEL " + o.key;
            } else if constexpr (std::is_same_v<T, protocol::Cas>) {
                return "CAS " + o.key + " " + (o.expected ? *o.expected : std::string("absent")) + "->" + o.value;
            } else {
                return protocol::describe(protocol::Op{o});
            }
        },
        op);
}

std::string describe_body(const protocol::ClientRequestBody& body) {
    if (const auto* local = std::get_if<protocol::LocalGetRequest>(&body)) return "LGET " + local->key;
    if (const auto* ops = std::get_if<protocol::OpsRequest>(&body)) {
        std::string s;
        for (std::size_t i = 0; i < ops->ops.size(); ++i) s += (i ? "; " : "") + describe_op(ops->ops[i]);
        return s.empty() ? "NOOP" : s;
    }
    return "?";
}

std::string trim(const std::string& s) {
    std::size_t a = 0;
    std::size_t b = s.size();
    while (a < b && std::isspace(static_cast<unsigned char>(s[a])) != 0) ++a;
    while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1])) != 0) --b;
    return s.substr(a, b - a);
}

std::optional<std::uint64_t> number(const std::string& s) {
    if (s.empty() || s.size() > 18) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : s) {
        if (std::isdigit(static_cast<unsigned char>(c)) == 0) return std::nullopt;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return v;
}

// "1->2"
bool parse_link(const std::string& s, Step& step) {
    const auto arrow = s.find("->");
    if (arrow == std::string::npos) return false;
    const auto a = number(s.substr(0, arrow));
    const auto b = number(s.substr(arrow + 2));
    if (!a || !b) return false;
    step.node = static_cast<NodeId>(*a);
    step.to = static_cast<NodeId>(*b);
    return true;
}

// "1,2 | 3" or "1-2-3" (sep '-')
std::optional<std::vector<std::vector<NodeId>>> parse_groups(const std::string& text, char sep) {
    std::vector<std::vector<NodeId>> groups;
    std::istringstream parts(text);
    std::string part;
    while (std::getline(parts, part, '|')) {
        std::vector<NodeId> g;
        std::istringstream items(trim(part));
        std::string item;
        while (std::getline(items, item, sep)) {
            const auto n = number(trim(item));
            if (!n || *n < 1 || *n > 64) return std::nullopt;
            g.push_back(static_cast<NodeId>(*n));
        }
        if (g.empty()) return std::nullopt;
        groups.push_back(std::move(g));
    }
    if (groups.empty()) return std::nullopt;
    return groups;
}

std::string describe_groups(const std::vector<std::vector<NodeId>>& groups, const char* sep, const char* bar) {
    std::string s;
    for (std::size_t g = 0; g < groups.size(); ++g) {
        s += g ? bar : "";
        for (std::size_t i = 0; i < groups[g].size(); ++i) s += (i ? sep : "") + std::to_string(groups[g][i]);
    }
    return s;
}

// "+30ms"
std::optional<std::uint64_t> parse_ms(const std::string& s) {
    if (s.size() < 4 || s.front() != '+' || s.substr(s.size() - 2) != "ms") return std::nullopt;
    return number(s.substr(1, s.size() - 3));
}

std::optional<protocol::Op> parse_op(const std::string& text) {
    std::istringstream in(text);
    std::string verb;
    std::string arg;
    in >> verb;
    std::getline(in, arg);
    arg = trim(arg);
    if (verb == "GET" && !arg.empty()) return protocol::Get{arg};
    if (verb == "DEL" && !arg.empty()) return protocol::Del{arg};
    if (verb == "SET") {
        const auto eq = arg.find('=');
        if (eq == std::string::npos || eq == 0) return std::nullopt;
        return protocol::Set{arg.substr(0, eq), arg.substr(eq + 1)};
    }
    if (verb == "CAS") {
        const auto space = arg.find(' ');
        const auto arrow = arg.find("->");
        if (space == std::string::npos || arrow == std::string::npos || arrow < space) return std::nullopt;
        const std::string expected = arg.substr(space + 1, arrow - space - 1);
        return protocol::Cas{arg.substr(0, space),
                             expected == "absent" ? std::nullopt : std::optional<std::string>(expected),
                             arg.substr(arrow + 2)};
    }
    return std::nullopt;
}

}  // namespace

std::string describe(const Step& s) {
    const std::string link = std::to_string(s.node) + "->" + std::to_string(s.to);
    switch (s.kind) {
        case StepKind::Client:
            return "client c" + std::to_string(s.slot) + " @" + std::to_string(s.node) + " " +
                   describe_body(s.body) + (s.wrong_cluster ? " !wrong-cluster" : "");
        case StepKind::Retry: return "retry c" + std::to_string(s.slot) + " @" + std::to_string(s.node);
        case StepKind::Deliver: return "deliver " + link + " #" + std::to_string(s.k);
        case StepKind::Drop: return "drop " + link + " #" + std::to_string(s.k);
        case StepKind::Duplicate: return "dup " + link + " #" + std::to_string(s.k);
        case StepKind::Tick: return "tick " + std::to_string(s.node) + " +" + std::to_string(s.k) + "ms";
        case StepKind::Advance: return "advance +" + std::to_string(s.k) + "ms";
        case StepKind::Pause: return "pause " + std::to_string(s.node);
        case StepKind::Resume: return "resume " + std::to_string(s.node);
        case StepKind::Drain: return "drain";
        case StepKind::Partition: return "partition " + describe_groups(s.groups, ",", " | ");
        case StepKind::Cut: return "cut " + link;
        case StepKind::Bridge: return "bridge " + describe_groups(s.groups, "-", "");
        case StepKind::Heal: return "heal";
        case StepKind::Crash: return "crash " + std::to_string(s.node);
        case StepKind::Restart: return "restart " + std::to_string(s.node);
        case StepKind::Rebootstrap: return "rebootstrap " + std::to_string(s.node);
    }
    return "?";
}

std::optional<Step> parse_step(const std::string& raw) {
    std::string line = trim(raw);
    std::istringstream in(line);
    std::string verb;
    in >> verb;
    Step step;
    std::string a;
    std::string b;
    if (verb == "deliver" || verb == "drop" || verb == "dup") {
        step.kind = verb == "deliver" ? StepKind::Deliver : verb == "drop" ? StepKind::Drop : StepKind::Duplicate;
        in >> a >> b;
        if (!parse_link(a, step) || b.size() < 2 || b[0] != '#') return std::nullopt;
        const auto k = number(b.substr(1));
        if (!k) return std::nullopt;
        step.k = *k;
        return step;
    }
    if (verb == "tick") {
        step.kind = StepKind::Tick;
        in >> a >> b;
        const auto n = number(a);
        const auto ms = parse_ms(b);
        if (!n || !ms) return std::nullopt;
        step.node = static_cast<NodeId>(*n);
        step.k = *ms;
        return step;
    }
    if (verb == "advance") {
        step.kind = StepKind::Advance;
        in >> a;
        const auto ms = parse_ms(a);
        if (!ms) return std::nullopt;
        step.k = *ms;
        return step;
    }
    if (verb == "drain" || verb == "heal") {
        step.kind = verb == "drain" ? StepKind::Drain : StepKind::Heal;
        std::string extra;
        if (in >> extra) return std::nullopt;
        return step;
    }
    if (verb == "cut") {
        step.kind = StepKind::Cut;
        in >> a;
        if (!parse_link(a, step)) return std::nullopt;
        return step;
    }
    if (verb == "partition" || verb == "bridge") {
        step.kind = verb == "partition" ? StepKind::Partition : StepKind::Bridge;
        std::string rest;
        std::getline(in, rest);
        auto groups = parse_groups(trim(rest), verb == "partition" ? ',' : '-');
        if (!groups) return std::nullopt;
        if (step.kind == StepKind::Bridge && (groups->size() != 1 || groups->front().size() != 3)) return std::nullopt;
        step.groups = std::move(*groups);
        return step;
    }
    if (verb == "pause" || verb == "resume" || verb == "crash" || verb == "restart" || verb == "rebootstrap") {
        step.kind = verb == "pause"     ? StepKind::Pause
                    : verb == "resume"  ? StepKind::Resume
                    : verb == "crash"   ? StepKind::Crash
                    : verb == "restart" ? StepKind::Restart
                                        : StepKind::Rebootstrap;
        in >> a;
        const auto n = number(a);
        if (!n) return std::nullopt;
        step.node = static_cast<NodeId>(*n);
        return step;
    }
    if (verb == "client" || verb == "retry") {
        step.kind = verb == "client" ? StepKind::Client : StepKind::Retry;
        in >> a >> b;
        if (a.size() < 2 || a[0] != 'c' || b.size() < 2 || b[0] != '@') return std::nullopt;
        const auto slot = number(a.substr(1));
        const auto node = number(b.substr(1));
        if (!slot || !node) return std::nullopt;
        step.slot = static_cast<std::uint32_t>(*slot);
        step.node = static_cast<NodeId>(*node);
        if (step.kind == StepKind::Retry) return step;
        std::string rest;
        std::getline(in, rest);
        rest = trim(rest);
        const std::string flag = "!wrong-cluster";
        if (rest.size() >= flag.size() && rest.substr(rest.size() - flag.size()) == flag) {
            step.wrong_cluster = true;
            rest = trim(rest.substr(0, rest.size() - flag.size()));
        }
        if (rest.rfind("LGET ", 0) == 0) {
            step.body = protocol::LocalGetRequest{trim(rest.substr(5))};
            return step;
        }
        protocol::OpsRequest ops;
        if (rest != "NOOP") {
            std::istringstream parts(rest);
            std::string part;
            while (std::getline(parts, part, ';')) {
                auto op = parse_op(trim(part));
                if (!op) return std::nullopt;
                ops.ops.push_back(std::move(*op));
            }
        }
        step.body = std::move(ops);
        return step;
    }
    return std::nullopt;
}

std::optional<std::vector<Step>> parse_schedule(const std::string& text, std::string* error) {
    std::vector<Step> steps;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        // A comment is '#' at the start of a line or after a blank and before
        // a blank ("# why"); "#3" is a message index.
        for (std::size_t i = 0; i < line.size(); ++i) {
            const bool starts = i == 0 || std::isspace(static_cast<unsigned char>(line[i - 1])) != 0;
            const bool ends = i + 1 == line.size() || std::isspace(static_cast<unsigned char>(line[i + 1])) != 0;
            if (line[i] == '#' && starts && ends) {
                line.resize(i);
                break;
            }
        }
        line = trim(line);
        if (line.empty()) continue;
        auto step = parse_step(line);
        if (!step) {
            if (error) *error = line;
            return std::nullopt;
        }
        steps.push_back(std::move(*step));
    }
    return steps;
}

ClusterOptions scripted_options(std::uint32_t nodes, std::uint64_t seed) {
    ClusterOptions o;
    o.nodes = nodes;
    o.seed = seed;
    o.store_limits = store::Limits{4, 260};
    o.clients = 3;
    o.codec_rate = 0.3;
    o.client_timeout_ms = 1000;
    return o;
}

bool parse_schedule_header(const std::string& text, std::uint32_t& nodes, std::uint64_t& seed, bool* total_loss) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        const auto at = line.find("# nodes=");
        if (at == std::string::npos) continue;
        std::istringstream fields(line.substr(at + 8));
        std::uint64_t n = 0;
        std::string rest;
        if (!(fields >> n)) return false;
        fields >> rest;
        if (rest.rfind("seed=", 0) != 0) return false;
        const auto s = number(rest.substr(5));
        if (!s || n < 1 || n > 64) return false;
        nodes = static_cast<std::uint32_t>(n);
        seed = *s;
        std::string flag;
        if (total_loss != nullptr) *total_loss = (fields >> flag) && flag == "total-loss";
        return true;
    }
    return false;
}

bool apply_schedule_timers(const std::string& text, ClusterOptions& o, std::string* error) {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        const auto at = line.find("# nodes=");
        if (at == std::string::npos) continue;
        std::istringstream words(line.substr(at + 8));
        std::string word;
        words >> word;  // the node count
        while (words >> word) {
            const auto eq = word.find('=');
            if (eq == std::string::npos || word.rfind("seed=", 0) == 0) continue;  // a flag or a note
            const std::string name = word.substr(0, eq);
            const auto ms = number(word.substr(eq + 1));
            std::uint64_t* field = name == "heartbeat"    ? &o.heartbeat_ms
                                   : name == "suspect"    ? &o.suspect_ms
                                   : name == "join_retry" ? &o.join_retry_ms
                                   : name == "vc_timeout" ? &o.vc_timeout_ms
                                   : name == "vc_backoff" ? &o.vc_backoff_ms
                                   : name == "resend"     ? &o.resend_ms
                                   : name == "client_timeout" ? &o.client_timeout_ms
                                   : name == "no_quorum"  ? &o.no_quorum_ms
                                                          : nullptr;
            if (field == nullptr || !ms || *ms == 0) {
                if (error) *error = word;
                return false;
            }
            *field = *ms;
        }
        return true;
    }
    return true;
}

bool apply(Cluster& c, const Step& s) {
    switch (s.kind) {
        case StepKind::Client: return c.client(s.node, s.slot, s.body, s.wrong_cluster);
        case StepKind::Retry: return c.retry(s.node, s.slot);
        case StepKind::Deliver: return c.deliver(s.node, s.to, s.k);
        case StepKind::Drop: return c.drop(s.node, s.to, s.k);
        case StepKind::Duplicate: return c.duplicate(s.node, s.to, s.k);
        case StepKind::Tick: return c.tick(s.node, s.k);
        case StepKind::Advance: c.advance(s.k); return true;
        case StepKind::Pause: c.pause(s.node); return true;
        case StepKind::Resume: c.resume(s.node); return true;
        case StepKind::Drain: return c.drain() > 0;
        case StepKind::Partition: c.partition(s.groups); return true;
        case StepKind::Cut: return c.cut(s.node, s.to);
        case StepKind::Bridge: {
            if (s.groups.size() != 1 || s.groups.front().size() != 3) return false;
            const auto& g = s.groups.front();
            const bool one = c.cut(g[0], g[2]);
            const bool two = c.cut(g[2], g[0]);
            return one || two;
        }
        case StepKind::Heal: c.heal_links(); return true;
        case StepKind::Crash: return c.crash(s.node);
        case StepKind::Restart: return c.restart(s.node);
        case StepKind::Rebootstrap: return c.rebootstrap(s.node);
    }
    return false;
}

ScheduleOutcome run_schedule(const ClusterOptions& options, const std::vector<Step>& steps,
                             std::uint64_t bound_ms) {
    ScheduleOutcome out;
    Cluster cluster(options);
    for (std::size_t i = 0; i < steps.size(); ++i) {
        apply(cluster, steps[i]);
        if (cluster.violation()) {
            out.verdict.kind = VerdictKind::Safety;
            out.verdict.violation = *cluster.violation();
            out.failed_at = i;
            out.during_schedule = true;
            out.trace_hash = cluster.trace_hash();
            return out;
        }
    }
    out.verdict = cluster.finish(bound_ms);
    out.trace_hash = cluster.trace_hash();
    return out;
}

}  // namespace tricache::sim
