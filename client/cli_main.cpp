// tricache: command-line client.
//   tricache [--server HOST:PORT]... [--json] get KEY [--local] | set KEY VALUE [--ttl DUR] | del KEY
//            | cas KEY EXPECTED NEW | cas --absent KEY NEW | ttl KEY | expire KEY DUR | persist KEY
//            | multi OP... | status
//            | admin isolate ID... | admin heal | admin rebootstrap | admin log
//   tricache keygen NAME [--force]     writes a CURVE key pair: NAME.key (secret, 0600) and NAME.pub
// CURVE: --client-key FILE ($TRICACHE_CLIENT_KEY) and one --server-key per server ($TRICACHE_SERVER_KEY).
// Exit codes (scripts rely on them; README "Client"):
//   0 ok   1 not found / CAS not applied / DEL, TTL, EXPIRE of an absent key / PERSIST without expiry   2 usage
//   3 a named server error (NO_QUORUM, NOT_READY, BAD_REQUEST, ...): not applied   4 outcome unknown / no answer
// The library reports a refusal (3) only when no attempt may have applied the request, and returns it as soon
// as every server has refused (README "Retries and refusals"); otherwise 4 at --timeout-ms.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "client/client.hpp"
#include "client/format.hpp"
#include "curve/keys.hpp"
#include "curve/secret_file.hpp"

namespace {

using namespace tricache;

enum Exit : int { kOk = 0, kNotFound = 1, kUsage = 2, kServerError = 3, kUnknown = 4 };

struct Globals {
    std::vector<std::string> servers;
    std::string cluster = "tricache";
    bool json = false;
    std::uint64_t timeout_ms = 12000;
    std::uint64_t attempt_timeout_ms = 2000;
    std::string client_key_file;           // CURVE secret key of this client
    std::vector<std::string> server_keys;  // Z85 public keys, one per server
};

int usage(const std::string& message) {
    std::fprintf(stderr, "tricache: %s\n", message.c_str());
    return kUsage;
}

std::vector<std::string> split_commas(const std::string& s) {
    std::vector<std::string> parts;
    for (std::size_t start = 0; start <= s.size();) {
        const auto comma = s.find(',', start);
        const auto part = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (!part.empty()) parts.push_back(part);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return parts;
}

// From an option or, when it was not given, a non-empty environment variable.
void from_env(std::vector<std::string>& out, const char* name) {
    if (!out.empty()) return;
    if (const char* env = std::getenv(name); env != nullptr && *env != '\0') out = split_commas(env);
}

int keygen(const std::string& base, bool force) {
    auto made = curve::generate();
    if (const auto* e = std::get_if<std::string>(&made)) return usage(*e);
    const auto& pair = std::get<curve::KeyPair>(made);
    if (auto e = curve::write_key_pair(base, pair, force)) return usage(*e + (force ? "" : " (--force replaces it)"));
    std::printf("%s\n", pair.public_key.c_str());
    std::fprintf(stderr, "tricache: wrote %s.key (secret, mode 0600) and %s.pub\n", base.c_str(), base.c_str());
    return kOk;
}

// The CURVE options, when a client key is given; an error message otherwise.
std::variant<std::optional<client::CurveKeys>, std::string> curve_keys(const Globals& g) {
    if (g.client_key_file.empty()) {
        if (!g.server_keys.empty()) return std::string("--server-key needs --client-key (or TRICACHE_CLIENT_KEY)");
        return std::optional<client::CurveKeys>{};
    }
    auto read = curve::read_secret_key_file(g.client_key_file);
    if (const auto* e = std::get_if<curve::FileError>(&read)) return "--client-key: " + e->message;
    auto pair = std::get<curve::KeyPair>(std::move(read));
    if (g.server_keys.size() != g.servers.size()) {
        return "--client-key needs one --server-key (or TRICACHE_SERVER_KEY entry) per server: " +
               std::to_string(g.servers.size()) + " servers, " + std::to_string(g.server_keys.size()) + " keys";
    }
    return std::optional<client::CurveKeys>{client::CurveKeys{pair.public_key, pair.secret_key, g.server_keys}};
}

int fail(const Globals& g, const client::Error& e) {
    std::fprintf(stderr, "tricache: %s\n", e.to_string().c_str());
    if (g.json) {
        std::printf("{\"error\":\"%s\",\"detail\":%s}\n", std::string(protocol::error_name(e.code)).c_str(),
                    client::json_string(e.detail).c_str());
    }
    return e.outcome_unknown() ? kUnknown : kServerError;
}

// A duration: a decimal number of ms, s (the default), m or h ("10s", "250ms", "2m").
std::optional<std::int64_t> parse_duration_ms(const std::string& text) {
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    if (digits == 0 || digits > 12) return std::nullopt;
    const std::int64_t n = std::stoll(text.substr(0, digits));
    const std::string unit = text.substr(digits);
    if (unit == "ms") return n;
    if (unit.empty() || unit == "s") return n * 1000;
    if (unit == "m") return n * 60 * 1000;
    if (unit == "h") return n * 3600 * 1000;
    return std::nullopt;
}

// "set a 1 get b del c cas k old new cas-absent k new ttl a expire a 10s persist a" -> ops
std::optional<std::vector<protocol::Op>> parse_ops(const std::vector<std::string>& words, std::string& error) {
    std::vector<protocol::Op> ops;
    std::size_t i = 0;
    auto take = [&](std::size_t n, const char* form) -> bool {
        if (i + n > words.size()) {
            error = std::string("'") + words[i - 1] + "' needs " + form;
            return false;
        }
        return true;
    };
    while (i < words.size()) {
        const std::string& w = words[i++];
        if (w == "get") {
            if (!take(1, "KEY")) return std::nullopt;
            ops.push_back(protocol::Get{words[i]});
            i += 1;
        } else if (w == "del") {
            if (!take(1, "KEY")) return std::nullopt;
            ops.push_back(protocol::Del{words[i]});
            i += 1;
        } else if (w == "set") {
            if (!take(2, "KEY VALUE")) return std::nullopt;
            ops.push_back(protocol::Set{words[i], words[i + 1]});
            i += 2;
        } else if (w == "cas") {
            if (!take(3, "KEY EXPECTED NEW")) return std::nullopt;
            ops.push_back(protocol::Cas{words[i], words[i + 1], words[i + 2]});
            i += 3;
        } else if (w == "cas-absent") {
            if (!take(2, "KEY NEW")) return std::nullopt;
            ops.push_back(protocol::Cas{words[i], std::nullopt, words[i + 1]});
            i += 2;
        } else if (w == "ttl" || w == "persist") {
            if (!take(1, "KEY")) return std::nullopt;
            if (w == "ttl") {
                ops.push_back(protocol::Ttl{words[i]});
            } else {
                ops.push_back(protocol::Persist{words[i]});
            }
            i += 1;
        } else if (w == "expire") {
            if (!take(2, "KEY DURATION")) return std::nullopt;
            const auto ms = parse_duration_ms(words[i + 1]);
            if (!ms) {
                error = "'" + words[i + 1] + "' is no duration (e.g. 10s, 250ms, 2m, 1h)";
                return std::nullopt;
            }
            ops.push_back(protocol::Expire{words[i], {protocol::ExpiryKind::After, *ms}, protocol::ExpireCond::Always});
            i += 2;
        } else {
            error = "unknown operation '" + w + "' (get, set, del, cas, cas-absent, ttl, expire, persist)";
            return std::nullopt;
        }
    }
    if (ops.empty()) {
        error = "multi needs at least one operation";
        return std::nullopt;
    }
    return ops;
}

void print_result(const protocol::Op& op, const protocol::OpResult& r) {
    const std::string key = client::op_key(op);
    if (std::holds_alternative<protocol::Ttl>(op)) {
        if (!r.ok) {
            std::printf("ttl %s: (not found)\n", key.c_str());
        } else if (r.value == "-1") {
            std::printf("ttl %s: no expiry\n", key.c_str());
        } else {
            std::printf("ttl %s: %s ms\n", key.c_str(), r.value.value_or("?").c_str());
        }
        return;
    }
    if (std::holds_alternative<protocol::Expire>(op)) {
        std::printf("expire %s: %s\n", key.c_str(), r.ok ? "set" : "(not found)");
        return;
    }
    if (std::holds_alternative<protocol::Persist>(op)) {
        std::printf("persist %s: %s\n", key.c_str(), r.ok ? "expiry removed" : "(not found or no expiry)");
        return;
    }
    switch (op.index()) {
        case 0: std::printf("get %s: %s\n", key.c_str(), r.ok ? r.value.value_or("").c_str() : "(not found)"); break;
        case 1: std::printf("set %s: OK\n", key.c_str()); break;
        case 2: std::printf("del %s: %s\n", key.c_str(), r.ok ? "deleted" : "(not found)"); break;
        default:
            if (r.ok) {
                std::printf("cas %s: swapped\n", key.c_str());
            } else {
                std::printf("cas %s: not swapped, current %s\n", key.c_str(),
                            r.value ? ("value " + *r.value).c_str() : "(absent)");
            }
    }
}

// Runs one single-op request and reports it the CLI way.
int single_op(const Globals& g, client::Client& c, protocol::Op op) {
    auto r = c.multi({op});
    if (!r) return fail(g, r.error());
    const protocol::OpResult& res = r.value().front();
    if (g.json) {
        std::printf("%s\n", client::result_json(op, res).c_str());
    } else if (op.index() == 0) {
        if (res.ok) std::printf("%s\n", res.value.value_or("").c_str());
    } else if (std::holds_alternative<protocol::Ttl>(op) && res.ok) {
        std::printf("%s\n", res.value == "-1" ? "no expiry" : (res.value.value_or("?") + " ms").c_str());
    } else {
        print_result(op, res);
    }
    if (op.index() == 1) return kOk;
    if (!res.ok) {
        if (!g.json && (op.index() == 0 || std::holds_alternative<protocol::Ttl>(op))) {
            std::fprintf(stderr, "tricache: not found\n");
        }
        return kNotFound;
    }
    return kOk;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"tricache: client for a tricache cluster"};
    app.require_subcommand(1);
    Globals g;
    app.add_option("--server,-s", g.servers, "node client address HOST:PORT (repeat or comma-separate; default $TRICACHE_SERVER)")
        ->delimiter(',');
    app.add_option("--cluster", g.cluster, "cluster id (default $TRICACHE_CLUSTER or 'tricache')");
    app.add_flag("--json", g.json, "print JSON on stdout");
    app.add_option("--timeout-ms", g.timeout_ms, "give up after this long, all attempts included");
    app.add_option("--attempt-timeout-ms", g.attempt_timeout_ms, "wait this long for one node before the next");
    app.add_option("--client-key", g.client_key_file,
                   "CURVE: this client's secret key file (default $TRICACHE_CLIENT_KEY)");
    app.add_option("--server-key", g.server_keys,
                   "CURVE: each server's Z85 public key, in --server order (repeat or comma-separate; default "
                   "$TRICACHE_SERVER_KEY)")
        ->delimiter(',');
    app.fallthrough();

    std::string key, value, expected;
    bool local = false, absent = false;
    std::vector<std::string> words;
    std::vector<std::uint32_t> ids;

    auto* get = app.add_subcommand("get", "read KEY (linearizable; --local: this node's store, maybe stale)");
    get->add_option("KEY", key)->required();
    get->add_flag("--local", local, "answer from one node's store without a round");
    std::string ttl_text;
    auto* set = app.add_subcommand("set", "set KEY to VALUE (--ttl DUR: expires after DUR, e.g. 10s, 250ms, 2m)");
    set->add_option("KEY", key)->required();
    set->add_option("VALUE", value)->required();
    set->add_option("--ttl", ttl_text, "time to live: a number of ms, s (default), m or h");
    auto* ttl = app.add_subcommand("ttl", "time KEY has left, in ms, or 'no expiry' (exit 1 when absent)");
    ttl->add_option("KEY", key)->required();
    auto* expire = app.add_subcommand("expire", "expire KEY after DUR, e.g. 10s (exit 1 when absent)");
    expire->add_option("KEY", key)->required();
    expire->add_option("DURATION", ttl_text)->required();
    auto* persist = app.add_subcommand("persist", "remove KEY's expiry (exit 1 when absent or without expiry)");
    persist->add_option("KEY", key)->required();
    auto* del = app.add_subcommand("del", "delete KEY (exit 1 when it did not exist)");
    del->add_option("KEY", key)->required();
    auto* cas = app.add_subcommand("cas", "cas KEY EXPECTED NEW, or cas --absent KEY NEW (exit 1 when not swapped)");
    cas->add_flag("--absent", absent, "set only if KEY is absent");
    cas->add_option("ARGS", words, "KEY EXPECTED NEW (or KEY NEW with --absent)")->required();
    auto* multi = app.add_subcommand("multi", "atomic ops: e.g. multi set a 1 get b del c cas k old new cas-absent k v");
    multi->add_option("OPS", words)->required();
    auto* status = app.add_subcommand("status", "one node's status (first --server that answers)");
    auto* admin = app.add_subcommand("admin", "operator commands, sent to the first --server only");
    admin->require_subcommand(1);
    auto* isolate = admin->add_subcommand("isolate", "drop traffic to and from these node ids at this node");
    isolate->add_option("ID", ids)->required();
    auto* heal = admin->add_subcommand("heal", "undo every isolate at this node");
    auto* rebootstrap = admin->add_subcommand("rebootstrap", "start a new, empty cluster history (after total loss)");
    auto* log = admin->add_subcommand("log", "this node's log length and hash");
    std::string keygen_base;
    bool keygen_force = false;
    auto* keygen_cmd = app.add_subcommand("keygen", "write a CURVE key pair: NAME.key (secret, 0600) and NAME.pub; "
                                                    "prints the public key");
    keygen_cmd->add_option("NAME", keygen_base, "path without extension")->required();
    keygen_cmd->add_flag("--force", keygen_force, "replace existing files");

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        (void)app.exit(e);
        return kUsage;
    }

    if (keygen_cmd->parsed()) return keygen(keygen_base, keygen_force);
    from_env(g.servers, "TRICACHE_SERVER");
    from_env(g.server_keys, "TRICACHE_SERVER_KEY");
    if (g.client_key_file.empty()) {
        if (const char* env = std::getenv("TRICACHE_CLIENT_KEY"); env != nullptr) g.client_key_file = env;
    }
    if (g.servers.empty()) return usage("no server: give --server HOST:PORT or set TRICACHE_SERVER");
    if (app.count("--cluster") == 0) {
        if (const char* env = std::getenv("TRICACHE_CLUSTER"); env != nullptr && *env != '\0') g.cluster = env;
    }
    if (g.timeout_ms == 0 || g.attempt_timeout_ms == 0) return usage("timeouts must be positive");

    client::Options opts;
    opts.servers = g.servers;
    opts.cluster_id = g.cluster;
    opts.deadline = std::chrono::milliseconds(g.timeout_ms);
    opts.attempt_timeout = std::chrono::milliseconds(std::min(g.attempt_timeout_ms, g.timeout_ms));
    auto keys = curve_keys(g);
    if (const auto* e = std::get_if<std::string>(&keys)) return usage(*e);
    opts.curve = std::get<std::optional<client::CurveKeys>>(std::move(keys));
    auto connected = client::Client::connect(opts);
    if (!connected) return usage(connected.error().detail);
    client::Client& c = connected.value();

    if (get->parsed()) {
        if (!local) return single_op(g, c, protocol::Get{key});
        auto r = c.local_get(key);
        if (!r) return fail(g, r.error());
        const auto& lg = r.value();
        if (g.json) {
            std::printf("{\"op\":\"get\",\"key\":%s,\"ok\":%s%s,\"local\":true,\"delivered\":%llu}\n",
                        client::json_string(key).c_str(), lg.found ? "true" : "false",
                        lg.found ? (",\"value\":" + client::json_string(lg.value)).c_str() : "",
                        static_cast<unsigned long long>(lg.delivered));
        } else if (lg.found) {
            std::printf("%s\n", lg.value.c_str());
        } else {
            std::fprintf(stderr, "tricache: not found (local, as of %llu transactions)\n",
                         static_cast<unsigned long long>(lg.delivered));
        }
        return lg.found ? kOk : kNotFound;
    }
    if (set->parsed() || expire->parsed()) {
        protocol::Expiry e;
        if (!ttl_text.empty()) {
            const auto ms = parse_duration_ms(ttl_text);
            if (!ms || *ms <= 0) return usage("'" + ttl_text + "' is no positive duration (e.g. 10s, 250ms, 2m, 1h)");
            e = {protocol::ExpiryKind::After, *ms};
        }
        if (set->parsed()) return single_op(g, c, protocol::Set{key, value, e});
        return single_op(g, c, protocol::Expire{key, e, protocol::ExpireCond::Always});
    }
    if (ttl->parsed()) return single_op(g, c, protocol::Ttl{key});
    if (persist->parsed()) return single_op(g, c, protocol::Persist{key});
    if (del->parsed()) return single_op(g, c, protocol::Del{key});
    if (cas->parsed()) {
        if (absent) {
            if (words.size() != 2) return usage("cas --absent takes KEY NEW");
            return single_op(g, c, protocol::Cas{words[0], std::nullopt, words[1]});
        }
        if (words.size() != 3) return usage("cas takes KEY EXPECTED NEW (or --absent KEY NEW)");
        return single_op(g, c, protocol::Cas{words[0], words[1], words[2]});
    }
    if (multi->parsed()) {
        std::string error;
        auto ops = parse_ops(words, error);
        if (!ops) return usage(error);
        auto r = c.multi(*ops);
        if (!r) return fail(g, r.error());
        if (g.json) {
            std::string o = "{\"results\":[";
            for (std::size_t i = 0; i < ops->size(); ++i) {
                o += (i ? "," : "") + client::result_json((*ops)[i], r.value()[i]);
            }
            std::printf("%s]}\n", o.c_str());
        } else {
            for (std::size_t i = 0; i < ops->size(); ++i) print_result((*ops)[i], r.value()[i]);
        }
        return kOk;  // applied atomically; per-op outcomes are in the output
    }
    if (status->parsed()) {
        auto r = c.status();
        if (!r) return fail(g, r.error());
        std::printf("%s\n", (g.json ? client::status_json(r.value()) : client::status_line(r.value())).c_str());
        return kOk;
    }
    protocol::AdminRequest req;
    if (isolate->parsed()) {
        req.kind = protocol::AdminKind::Isolate;
        req.peers = ids;
    } else if (heal->parsed()) {
        req.kind = protocol::AdminKind::Heal;
    } else if (rebootstrap->parsed()) {
        req.kind = protocol::AdminKind::Rebootstrap;
    } else if (log->parsed()) {
        req.kind = protocol::AdminKind::DebugLog;
    } else {
        return usage("unknown command");
    }
    auto r = c.admin(req, client::OneNode{0});
    if (!r) return fail(g, r.error());
    if (g.json) {
        std::string vals;
        for (auto v : r.value().values) vals += (vals.empty() ? "" : ",") + std::to_string(v);
        std::printf("{\"message\":%s,\"values\":[%s]}\n", client::json_string(r.value().message).c_str(), vals.c_str());
    } else {
        std::printf("%s", r.value().message.c_str());
        for (auto v : r.value().values) std::printf(" %llu", static_cast<unsigned long long>(v));
        std::printf("\n");
    }
    return kOk;
}
