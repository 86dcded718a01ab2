#include "node/resp/commands.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <limits>
#include <map>
#include <optional>
#include <utility>
#include <variant>

namespace tricache::node::resp {
namespace {

using protocol::ClientRequestBody;
using protocol::ErrorCode;
using protocol::ErrorReply;
using protocol::Op;
using protocol::OpResult;

constexpr std::string_view kRedisVersion = "7.0.0";  // the command set this endpoint follows
constexpr std::string_view kNotInteger = "ERR value is not an integer or out of range";
constexpr std::string_view kSyntax = "ERR syntax error";
// Redis's own texts (server.c, acl.c, networking.c).
constexpr std::string_view kNoAuth = "NOAUTH Authentication required.";
constexpr std::string_view kWrongPass = "WRONGPASS invalid username-password pair or user is disabled.";
constexpr std::string_view kHelloNoAuth =
    "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> "
    "<pass> option can be used to authenticate the client and select the RESP protocol version at the same time";
constexpr std::string_view kNoPassword =
    "ERR AUTH <password> called without any password configured for the default user. Are you sure your "
    "configuration is correct?";

// Redis's reply to an expiry time it cannot take, for command `name`.
std::string invalid_expire(std::string_view name) {
    return "ERR invalid expire time in '" + std::string(name) + "' command";
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

using Args = std::vector<std::string>;

struct Context {
    const Args& argv;
    Session& session;
    const NodeFacts& facts;
};

Plan reply_with(int protocol, const std::function<void(Writer&)>& write) {
    Plan p;
    p.protocol = protocol;
    Writer w(p.reply, protocol);
    write(w);
    return p;
}

Plan error_plan(const Context& c, std::string_view text) {
    return reply_with(c.session.protocol, [&](Writer& w) { w.error(text); });
}

Plan ok_plan(const Context& c) {
    return reply_with(c.session.protocol, [](Writer& w) { w.simple("OK"); });
}

void unexpected(Writer& w, const protocol::ClientResponseBody& body) {
    if (const auto* e = std::get_if<ErrorReply>(&body)) {
        write_engine_error(w, *e);
    } else {
        w.error("ERR internal error: unexpected reply from the engine");
    }
}

using OnResults = std::function<void(Writer&, const std::vector<OpResult>&)>;

// One transaction: the ops apply atomically, and `on` writes the reply from their results.
Plan ops_plan(const Context& c, std::vector<Op> ops, OnResults on) {
    Plan p;
    p.protocol = c.session.protocol;
    const std::size_t n = ops.size();
    p.requests.emplace_back(protocol::OpsRequest{std::move(ops)});
    p.finish = [on = std::move(on), n](Writer& w, const Bodies& bodies) {
        const auto* r = std::get_if<protocol::OpsReply>(&bodies.at(0));
        if (r == nullptr) return unexpected(w, bodies.at(0));
        if (r->results.size() != n) return w.error("ERR internal error: wrong number of results");
        on(w, r->results);
    };
    return p;
}

// Local reads (READONLY): one LocalGetRequest per key.
using OnLocal = std::function<void(Writer&, const std::vector<const protocol::LocalGetReply*>&)>;
Plan local_plan(const Context& c, const std::vector<std::string>& keys, OnLocal on) {
    Plan p;
    p.protocol = c.session.protocol;
    for (const auto& k : keys) p.requests.emplace_back(protocol::LocalGetRequest{k});
    p.finish = [on = std::move(on)](Writer& w, const Bodies& bodies) {
        std::vector<const protocol::LocalGetReply*> replies;
        for (const auto& b : bodies) {
            const auto* r = std::get_if<protocol::LocalGetReply>(&b);
            if (r == nullptr) return unexpected(w, b);
            replies.push_back(r);
        }
        on(w, replies);
    };
    return p;
}

using OnStatus = std::function<void(Writer&, const protocol::StatusReply&)>;
Plan status_plan(const Context& c, OnStatus on) {
    Plan p;
    p.protocol = c.session.protocol;
    p.requests.emplace_back(protocol::StatusRequest{});
    p.finish = [on = std::move(on)](Writer& w, const Bodies& bodies) {
        const auto* s = std::get_if<protocol::StatusReply>(&bodies.at(0));
        if (s == nullptr) return unexpected(w, bodies.at(0));
        on(w, *s);
    };
    return p;
}

std::vector<std::string> keys_from(const Args& argv, std::size_t first, std::size_t step = 1) {
    std::vector<std::string> keys;
    for (std::size_t i = first; i < argv.size(); i += step) keys.push_back(argv[i]);
    return keys;
}

// ------------------------------------------------------------------ connection

Plan cmd_ping(const Context& c) {
    if (c.argv.size() > 2) return error_plan(c, "ERR wrong number of arguments for 'ping' command");
    return reply_with(c.session.protocol, [&](Writer& w) {
        if (c.argv.size() == 2) {
            w.bulk(c.argv[1]);
        } else {
            w.simple("PONG");
        }
    });
}

Plan cmd_echo(const Context& c) {
    return reply_with(c.session.protocol, [&](Writer& w) { w.bulk(c.argv[1]); });
}

Plan cmd_quit(const Context& c) {
    Plan p = ok_plan(c);
    p.close_after = true;
    return p;
}

bool valid_client_name(std::string_view name) {
    return std::all_of(name.begin(), name.end(), [](char ch) { return ch > ' ' && ch <= '~'; });
}

bool needs_auth(const Session& s) { return !s.password.empty() && !s.authenticated; }

// The one user there is, "default", with the node's password. True when the
// pair matches; then the connection is authenticated.
bool authenticate(Session& s, std::string_view user, std::string_view password) {
    const bool ok = iequals(user, "default") & same_secret(password, s.password);
    if (ok) s.authenticated = true;
    return ok;
}

Plan cmd_hello(const Context& c) {
    std::int64_t version = 0;
    std::size_t i = 1;
    if (c.argv.size() >= 2) {
        if (!parse_ll(c.argv[1], version)) return error_plan(c, "ERR Protocol version is not an integer or out of range");
        if (version < 2 || version > 3) return error_plan(c, "NOPROTO unsupported protocol version");
        i = 2;
    }
    std::optional<std::string> name;
    std::optional<std::pair<std::string, std::string>> credentials;
    for (; i < c.argv.size(); ++i) {
        const std::size_t more = c.argv.size() - 1 - i;
        if (iequals(c.argv[i], "AUTH") && more >= 2) {
            credentials.emplace(c.argv[i + 1], c.argv[i + 2]);
            i += 2;
        } else if (iequals(c.argv[i], "SETNAME") && more >= 1) {
            if (!valid_client_name(c.argv[i + 1])) {
                return error_plan(c, "ERR Client names cannot contain spaces, newlines or special characters.");
            }
            name = c.argv[++i];
        } else {
            return error_plan(c, "ERR Syntax error in HELLO option '" + c.argv[i] + "'");
        }
    }
    // As Redis: credentials first (without a password every pair is accepted,
    // the default user having none), and nothing switches until they pass.
    if (credentials && !c.session.password.empty() &&
        !authenticate(c.session, credentials->first, credentials->second)) {
        return error_plan(c, kWrongPass);
    }
    if (needs_auth(c.session)) return error_plan(c, kHelloNoAuth);
    if (name) c.session.name = *name;
    if (version != 0) c.session.protocol = static_cast<int>(version);
    return reply_with(c.session.protocol, [&](Writer& w) {
        w.map(7);
        w.bulk("server");
        w.bulk("tricache");
        w.bulk("version");
        w.bulk(kRedisVersion);
        w.bulk("proto");
        w.integer(c.session.protocol);
        w.bulk("id");
        w.integer(static_cast<std::int64_t>(c.session.id));
        w.bulk("mode");
        w.bulk("standalone");
        w.bulk("role");
        w.bulk("master");
        w.bulk("modules");
        w.array(0);
    });
}

Plan cmd_auth(const Context& c) {
    if (c.argv.size() > 3) return error_plan(c, kSyntax);
    if (c.session.password.empty()) {
        // The default user has no password: the one-argument form is an error, a user and password pass.
        if (c.argv.size() == 2) return error_plan(c, kNoPassword);
        return iequals(c.argv[1], "default") ? ok_plan(c) : error_plan(c, kWrongPass);
    }
    const bool ok = c.argv.size() == 2 ? authenticate(c.session, "default", c.argv[1])
                                       : authenticate(c.session, c.argv[1], c.argv[2]);
    return ok ? ok_plan(c) : error_plan(c, kWrongPass);
}

Plan cmd_select(const Context& c) {
    std::int64_t db = 0;
    if (!parse_ll(c.argv[1], db)) return error_plan(c, kNotInteger);
    if (db != 0) return error_plan(c, "ERR DB index is out of range");
    return ok_plan(c);
}

Plan cmd_client(const Context& c) {
    const std::string sub = lower(c.argv[1]);
    const auto arity = [&](std::size_t n) { return c.argv.size() == n; };
    const auto wrong = [&] { return error_plan(c, "ERR wrong number of arguments for 'client|" + sub + "' command"); };
    if (sub == "setname") {
        if (!arity(3)) return wrong();
        if (!valid_client_name(c.argv[2])) {
            return error_plan(c, "ERR Client names cannot contain spaces, newlines or special characters.");
        }
        c.session.name = c.argv[2];
        return ok_plan(c);
    }
    if (sub == "getname") {
        if (!arity(2)) return wrong();
        return reply_with(c.session.protocol, [&](Writer& w) {
            if (c.session.name.empty()) {
                w.null();
            } else {
                w.bulk(c.session.name);
            }
        });
    }
    if (sub == "id") {
        if (!arity(2)) return wrong();
        return reply_with(c.session.protocol, [&](Writer& w) { w.integer(static_cast<std::int64_t>(c.session.id)); });
    }
    if (sub == "setinfo") {  // sent by newer client libraries on connect
        if (!arity(4)) return wrong();
        return ok_plan(c);
    }
    return error_plan(c, "ERR unknown subcommand '" + c.argv[1].substr(0, 128) + "'. Try CLIENT HELP.");
}

Plan cmd_readonly(const Context& c) {
    c.session.readonly = true;
    return ok_plan(c);
}

Plan cmd_readwrite(const Context& c) {
    c.session.readonly = false;
    return ok_plan(c);
}

// ------------------------------------------------------------------ strings

Plan cmd_get(const Context& c) {
    if (c.session.readonly) {
        return local_plan(c, {c.argv[1]}, [](Writer& w, const auto& r) {
            if (r[0]->found) {
                w.bulk(r[0]->value);
            } else {
                w.null();
            }
        });
    }
    return ops_plan(c, {protocol::Get{c.argv[1]}}, [](Writer& w, const auto& r) {
        if (r[0].ok && r[0].value) {
            w.bulk(*r[0].value);
        } else {
            w.null();
        }
    });
}

// The expiry options SET and GETEX share (EX PX EXAT PXAT, and KEEPTTL or
// PERSIST): at most one of them, as Redis takes them.
struct ExpiryOption {
    bool given = false;
    bool persist = false;  // GETEX PERSIST
    protocol::Expiry expiry;  // None when not given
};

// Parses argv[i] (and its argument) if it is an expiry option; `taken` is how
// many arguments it used, 0 if argv[i] is none. An error is Redis's text.
std::optional<std::string> parse_expiry_option(const Context& c, std::size_t i, std::string_view command, bool set,
                                               ExpiryOption& out, std::size_t& taken) {
    taken = 0;
    const std::string opt = lower(c.argv[i]);
    const bool timed = opt == "ex" || opt == "px" || opt == "exat" || opt == "pxat";
    const bool flag = (set && opt == "keepttl") || (!set && opt == "persist");
    if (!timed && !flag) return std::nullopt;
    if (out.given || (timed && i + 1 >= c.argv.size())) return std::string(kSyntax);
    out.given = true;
    if (flag) {
        taken = 1;
        out.persist = !set;
        out.expiry.kind = set ? protocol::ExpiryKind::Keep : protocol::ExpiryKind::None;
        return std::nullopt;
    }
    std::int64_t n = 0;
    if (!parse_ll(c.argv[i + 1], n)) return std::string(kNotInteger);
    const bool seconds = opt == "ex" || opt == "exat";
    if (n <= 0 || (seconds && n > std::numeric_limits<std::int64_t>::max() / 1000)) return invalid_expire(command);
    out.expiry.kind = (opt == "ex" || opt == "px") ? protocol::ExpiryKind::After : protocol::ExpiryKind::At;
    out.expiry.ms = seconds ? n * 1000 : n;
    taken = 2;
    return std::nullopt;
}

// SET key value [NX | XX] [GET] [EX s | PX ms | EXAT unix-s | PXAT unix-ms | KEEPTTL]
Plan plan_set(const Context& c) {
    bool nx = false;
    bool xx = false;
    bool get = false;
    ExpiryOption expiry;
    for (std::size_t i = 3; i < c.argv.size(); ++i) {
        std::size_t taken = 0;
        if (auto err = parse_expiry_option(c, i, "set", true, expiry, taken)) return error_plan(c, *err);
        if (taken > 0) {
            i += taken - 1;
            continue;
        }
        const std::string opt = lower(c.argv[i]);
        if (opt == "nx" && !xx) {
            nx = true;
        } else if (opt == "xx" && !nx) {
            xx = true;
        } else if (opt == "get") {
            get = true;
        } else {
            return error_plan(c, kSyntax);
        }
    }
    const std::string& key = c.argv[1];
    std::vector<Op> ops;
    if (get) ops.emplace_back(protocol::Get{key});
    if (nx || xx) ops.emplace_back(protocol::Require{key, xx});
    ops.emplace_back(protocol::Set{key, c.argv[2], expiry.expiry});
    const bool guarded = nx || xx;
    return ops_plan(c, std::move(ops), [get, guarded](Writer& w, const auto& r) {
        if (get) {
            if (r[0].ok && r[0].value) {
                w.bulk(*r[0].value);
            } else {
                w.null();
            }
            return;
        }
        if (guarded && !r[0].ok) return w.null();
        if (!r.back().ok) return w.error("TOOLARGE the entry does not fit the store");
        w.simple("OK");
    });
}

// SETEX key seconds value, PSETEX key ms value.
Plan cmd_setex(const Context& c, bool ms) {
    std::int64_t n = 0;
    if (!parse_ll(c.argv[2], n)) return error_plan(c, kNotInteger);
    const std::string_view name = ms ? "psetex" : "setex";
    if (n <= 0 || (!ms && n > std::numeric_limits<std::int64_t>::max() / 1000)) {
        return error_plan(c, invalid_expire(name));
    }
    const protocol::Expiry e{protocol::ExpiryKind::After, ms ? n : n * 1000};
    return ops_plan(c, {protocol::Set{c.argv[1], c.argv[3], e}}, [](Writer& w, const auto& r) {
        if (!r[0].ok) return w.error("TOOLARGE the entry does not fit the store");
        w.simple("OK");
    });
}

// GETEX key [EX s | PX ms | EXAT unix-s | PXAT unix-ms | PERSIST]: the value, and the expiry changed with it.
Plan cmd_getex(const Context& c) {
    ExpiryOption expiry;
    for (std::size_t i = 2; i < c.argv.size(); ++i) {
        std::size_t taken = 0;
        if (auto err = parse_expiry_option(c, i, "getex", false, expiry, taken)) return error_plan(c, *err);
        if (taken == 0) return error_plan(c, kSyntax);
        i += taken - 1;
    }
    const std::string& key = c.argv[1];
    std::vector<Op> ops{protocol::Get{key}};
    if (expiry.persist) {
        ops.emplace_back(protocol::Persist{key});
    } else if (expiry.given) {
        ops.emplace_back(protocol::Expire{key, expiry.expiry, protocol::ExpireCond::Always});
    }
    return ops_plan(c, std::move(ops), [](Writer& w, const auto& r) {
        if (r[0].ok && r[0].value) {
            w.bulk(*r[0].value);
        } else {
            w.null();
        }
    });
}

// EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT key time [NX | XX | GT | LT].
Plan cmd_expire(const Context& c, std::string_view name, bool ms, bool absolute) {
    std::int64_t n = 0;
    if (!parse_ll(c.argv[2], n)) return error_plan(c, kNotInteger);
    bool nx = false, xx = false, gt = false, lt = false;
    for (std::size_t i = 3; i < c.argv.size(); ++i) {
        const std::string opt = lower(c.argv[i]);
        if (opt == "nx") {
            nx = true;
        } else if (opt == "xx") {
            xx = true;
        } else if (opt == "gt") {
            gt = true;
        } else if (opt == "lt") {
            lt = true;
        } else {
            return error_plan(c, "ERR Unsupported option " + c.argv[i]);
        }
    }
    if (nx && (xx || gt || lt)) return error_plan(c, "ERR NX and XX, GT or LT options at the same time are not compatible");
    if (gt && lt) return error_plan(c, "ERR GT and LT options at the same time are not compatible");
    constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
    if (!ms && (n > kMax / 1000 || n < -(kMax / 1000))) return error_plan(c, invalid_expire(name));
    const protocol::Expiry e{absolute ? protocol::ExpiryKind::At : protocol::ExpiryKind::After, ms ? n : n * 1000};
    // GT already fails on a key without expiry, so XX adds nothing to it; it does to LT.
    const protocol::ExpireCond cond = nx                ? protocol::ExpireCond::Nx
                                      : gt              ? protocol::ExpireCond::Gt
                                      : lt && xx        ? protocol::ExpireCond::XxLt
                                      : lt              ? protocol::ExpireCond::Lt
                                      : xx              ? protocol::ExpireCond::Xx
                                                        : protocol::ExpireCond::Always;
    std::vector<Op> ops{protocol::Expire{c.argv[1], e, cond}};
    return ops_plan(c, std::move(ops), [](Writer& w, const auto& r) { w.integer(r[0].ok ? 1 : 0); });
}

// TTL / PTTL key: -2 absent, -1 without expiry, else the time left (seconds rounded as Redis does).
Plan cmd_ttl(const Context& c, bool ms) {
    return ops_plan(c, {protocol::Ttl{c.argv[1]}}, [ms](Writer& w, const auto& r) {
        std::int64_t left = 0;
        if (!r[0].ok) return w.integer(-2);
        if (!r[0].value || !parse_ll(*r[0].value, left)) return w.error("ERR internal error: bad ttl");
        if (left < 0) return w.integer(-1);
        w.integer(ms ? left : (left + 500) / 1000);
    });
}

Plan cmd_persist(const Context& c) {
    return ops_plan(c, {protocol::Persist{c.argv[1]}}, [](Writer& w, const auto& r) { w.integer(r[0].ok ? 1 : 0); });
}

Plan cmd_getdel(const Context& c) {
    return ops_plan(c, {protocol::Get{c.argv[1]}, protocol::Del{c.argv[1]}}, [](Writer& w, const auto& r) {
        if (r[0].ok && r[0].value) {
            w.bulk(*r[0].value);
        } else {
            w.null();
        }
    });
}

Plan cmd_mget(const Context& c) {
    const auto keys = keys_from(c.argv, 1);
    if (c.session.readonly) {
        return local_plan(c, keys, [](Writer& w, const auto& r) {
            w.array(r.size());
            for (const auto* x : r) {
                if (x->found) {
                    w.bulk(x->value);
                } else {
                    w.null();
                }
            }
        });
    }
    std::vector<Op> ops;
    for (const auto& k : keys) ops.emplace_back(protocol::Get{k});
    return ops_plan(c, std::move(ops), [](Writer& w, const auto& r) {
        w.array(r.size());
        for (const auto& x : r) {
            if (x.ok && x.value) {
                w.bulk(*x.value);
            } else {
                w.null();
            }
        }
    });
}

Plan cmd_mset(const Context& c, bool only_if_none) {
    if (c.argv.size() % 2 == 0) {
        return error_plan(c, std::string("ERR wrong number of arguments for '") + (only_if_none ? "msetnx" : "mset") +
                                 "' command");
    }
    std::vector<Op> ops;
    if (only_if_none) {
        for (std::size_t i = 1; i < c.argv.size(); i += 2) ops.emplace_back(protocol::Require{c.argv[i], false});
    }
    for (std::size_t i = 1; i < c.argv.size(); i += 2) ops.emplace_back(protocol::Set{c.argv[i], c.argv[i + 1]});
    const std::size_t guards = only_if_none ? (c.argv.size() - 1) / 2 : 0;
    return ops_plan(c, std::move(ops), [only_if_none, guards](Writer& w, const auto& r) {
        const bool all_absent = std::all_of(r.begin(), r.begin() + static_cast<std::ptrdiff_t>(guards),
                                            [](const OpResult& x) { return x.ok; });
        const bool stored = std::all_of(r.begin() + static_cast<std::ptrdiff_t>(guards), r.end(),
                                        [](const OpResult& x) { return x.ok; });
        if (only_if_none) {
            if (all_absent && !stored) return w.error("TOOLARGE an entry does not fit the store");
            return w.integer(all_absent ? 1 : 0);
        }
        if (!stored) return w.error("TOOLARGE an entry does not fit the store");
        w.simple("OK");
    });
}

Plan cmd_del(const Context& c) {
    std::vector<Op> ops;
    for (std::size_t i = 1; i < c.argv.size(); ++i) ops.emplace_back(protocol::Del{c.argv[i]});
    return ops_plan(c, std::move(ops), [](Writer& w, const auto& r) {
        w.integer(std::count_if(r.begin(), r.end(), [](const OpResult& x) { return x.ok; }));
    });
}

Plan cmd_exists(const Context& c) {
    const auto keys = keys_from(c.argv, 1);
    if (c.session.readonly) {
        return local_plan(c, keys, [](Writer& w, const auto& r) {
            w.integer(std::count_if(r.begin(), r.end(), [](const auto* x) { return x->found; }));
        });
    }
    std::vector<Op> ops;
    for (const auto& k : keys) ops.emplace_back(protocol::Exists{k});
    return ops_plan(c, std::move(ops), [](Writer& w, const auto& r) {
        w.integer(std::count_if(r.begin(), r.end(), [](const OpResult& x) { return x.ok; }));
    });
}

Plan plan_incr(const Context& c, std::int64_t delta) {
    return ops_plan(c, {protocol::Incr{c.argv[1], delta}}, [delta](Writer& w, const auto& r) {
        std::int64_t n = 0;
        if (r[0].ok && r[0].value && parse_ll(*r[0].value, n)) return w.integer(n);
        if (!r[0].value) return w.error("TOOLARGE the entry does not fit the store");
        if (!parse_ll(*r[0].value, n)) return w.error(kNotInteger);
        std::int64_t sum = 0;
        if (__builtin_add_overflow(n, delta, &sum)) return w.error("ERR increment or decrement would overflow");
        w.error("TOOLARGE the entry does not fit the store");
    });
}

Plan cmd_incrby(const Context& c, bool negate) {
    std::int64_t delta = 0;
    if (!parse_ll(c.argv[2], delta)) return error_plan(c, kNotInteger);
    if (negate) {
        if (delta == std::numeric_limits<std::int64_t>::min()) return error_plan(c, "ERR decrement would overflow");
        delta = -delta;
    }
    return plan_incr(c, delta);
}

Plan cmd_append(const Context& c) {
    return ops_plan(c, {protocol::Append{c.argv[1], c.argv[2]}}, [](Writer& w, const auto& r) {
        std::int64_t n = 0;
        if (r[0].ok && r[0].value && parse_ll(*r[0].value, n)) return w.integer(n);
        w.error("TOOLARGE string exceeds maximum allowed size (8 MiB, and the store's byte limit)");
    });
}

Plan cmd_strlen(const Context& c) {
    if (c.session.readonly) {
        return local_plan(c, {c.argv[1]}, [](Writer& w, const auto& r) {
            w.integer(r[0]->found ? static_cast<std::int64_t>(r[0]->value.size()) : 0);
        });
    }
    return ops_plan(c, {protocol::Get{c.argv[1]}}, [](Writer& w, const auto& r) {
        w.integer(r[0].ok && r[0].value ? static_cast<std::int64_t>(r[0].value->size()) : 0);
    });
}

Plan cmd_type(const Context& c) {
    if (c.session.readonly) {
        return local_plan(c, {c.argv[1]}, [](Writer& w, const auto& r) { w.simple(r[0]->found ? "string" : "none"); });
    }
    return ops_plan(c, {protocol::Exists{c.argv[1]}},
                    [](Writer& w, const auto& r) { w.simple(r[0].ok ? "string" : "none"); });
}

// ------------------------------------------------------------------ keyspace

Plan cmd_dbsize(const Context& c) {
    if (c.session.readonly) {
        return status_plan(c, [](Writer& w, const protocol::StatusReply& s) {
            w.integer(static_cast<std::int64_t>(s.entries));
        });
    }
    return ops_plan(c, {protocol::Count{}}, [](Writer& w, const auto& r) {
        std::int64_t n = 0;
        if (!r[0].value || !parse_ll(*r[0].value, n)) return w.error("ERR internal error: bad count");
        w.integer(n);
    });
}

Plan cmd_scan(const Context& c) {
    const std::string& text = c.argv[1];
    std::uint64_t cursor = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), cursor);
    if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size()) {
        return error_plan(c, "ERR invalid cursor");
    }
    std::int64_t count = 10;
    std::optional<std::string> pattern;
    bool strings = true;
    for (std::size_t i = 2; i < c.argv.size(); i += 2) {
        const std::string opt = lower(c.argv[i]);
        if (i + 1 >= c.argv.size()) return error_plan(c, kSyntax);
        if (opt == "count") {
            if (!parse_ll(c.argv[i + 1], count)) return error_plan(c, kNotInteger);
            if (count < 1) return error_plan(c, kSyntax);
        } else if (opt == "match") {
            pattern = c.argv[i + 1];
            if (*pattern == "*") pattern.reset();
        } else if (opt == "type") {
            const std::string t = lower(c.argv[i + 1]);
            if (t != "string" && t != "list" && t != "set" && t != "zset" && t != "hash" && t != "stream") {
                return error_plan(c, "ERR unknown type name '" + c.argv[i + 1] + "'");
            }
            strings = t == "string";
        } else {
            return error_plan(c, kSyntax);
        }
    }
    const auto wanted = static_cast<std::uint32_t>(std::min<std::int64_t>(count, protocol::kMaxScanCount));
    return ops_plan(c, {protocol::Scan{cursor, wanted}}, [pattern, strings](Writer& w, const auto& r) {
        std::uint64_t next = 0;
        std::vector<std::string> keys;
        if (!r[0].value || !protocol::decode_scan_page(*r[0].value, next, keys)) {
            return w.error("ERR internal error: bad scan page");
        }
        if (!strings) keys.clear();
        if (pattern) {
            std::erase_if(keys, [&](const std::string& k) { return !glob_match(*pattern, k); });
        }
        w.array(2);
        w.bulk(std::to_string(next));
        w.array(keys.size());
        for (const auto& k : keys) w.bulk(k);
    });
}

Plan cmd_flushall(const Context& c) {
    if (c.argv.size() > 2) return error_plan(c, kSyntax);
    if (c.argv.size() == 2 && !iequals(c.argv[1], "ASYNC") && !iequals(c.argv[1], "SYNC")) {
        return error_plan(c, kSyntax);
    }
    return ops_plan(c, {protocol::Clear{}}, [](Writer& w, const auto&) { w.simple("OK"); });
}

Plan cmd_wait(const Context& c) {
    std::int64_t replicas = 0;
    std::int64_t timeout = 0;
    if (!parse_ll(c.argv[1], replicas)) return error_plan(c, kNotInteger);
    if (!parse_ll(c.argv[2], timeout)) return error_plan(c, "ERR timeout is not an integer or out of range");
    if (timeout < 0) return error_plan(c, "ERR timeout is negative");
    // Every acknowledged write is already applied by every member: the other
    // members are the replicas that hold it.
    return status_plan(c, [](Writer& w, const protocol::StatusReply& s) {
        w.integer(s.members.empty() ? 0 : static_cast<std::int64_t>(s.members.size()) - 1);
    });
}

// ------------------------------------------------------------------ server

struct ConfigParam {
    std::string name;
    std::string value;
};

std::vector<ConfigParam> config_params(const NodeFacts& f) {
    return {
        {"maxmemory", std::to_string(f.max_bytes)},
        {"maxmemory-policy", "allkeys-lru"},
        {"save", ""},
        {"appendonly", "no"},
        {"databases", "1"},
        {"maxclients", std::to_string(f.max_clients)},
        {"port", std::to_string(f.port)},
        {"timeout", "0"},
        {"proto-max-bulk-len", std::to_string(f.max_value_bytes)},
        {"cluster-enabled", "no"},
    };
}

Plan cmd_config(const Context& c) {
    const std::string sub = lower(c.argv[1]);
    if (sub == "get") {
        if (c.argv.size() < 3) return error_plan(c, "ERR wrong number of arguments for 'config|get' command");
        std::vector<ConfigParam> found;
        for (const auto& p : config_params(c.facts)) {
            for (std::size_t i = 2; i < c.argv.size(); ++i) {
                if (glob_match(c.argv[i], p.name, true)) {
                    found.push_back(p);
                    break;
                }
            }
        }
        return reply_with(c.session.protocol, [&](Writer& w) {
            w.map(found.size());
            for (const auto& p : found) {
                w.bulk(p.name);
                w.bulk(p.value);
            }
        });
    }
    if (sub == "set" || sub == "resetstat" || sub == "rewrite") {
        return error_plan(c, "ERR CONFIG " + lower(c.argv[1]) +
                                 " is not supported: tricache is configured by its cluster file");
    }
    return error_plan(c, "ERR unknown subcommand '" + c.argv[1].substr(0, 128) + "'. Try CONFIG HELP.");
}

std::string info_text(const NodeFacts& f, const protocol::StatusReply& s, const std::vector<std::string>& wanted) {
    const auto want = [&](std::string_view section) {
        if (wanted.empty()) return true;
        for (const auto& w : wanted) {
            const std::string l = lower(w);
            if (l == "all" || l == "everything" || l == "default" || l == section) return true;
        }
        return false;
    };
    std::string out;
    const auto line = [&](std::string_view k, const std::string& v) {
        out.append(k);
        out += ':';
        out += v;
        out += "\r\n";
    };
    const auto section = [&](std::string_view title) {
        if (!out.empty()) out += "\r\n";
        out += "# ";
        out.append(title);
        out += "\r\n";
    };
    if (want("server")) {
        section("Server");
        line("redis_version", std::string(kRedisVersion));
        line("tricache_node", std::to_string(f.node));
        line("tricache_cluster_id", f.cluster_id);
        line("redis_mode", "standalone");
        line("process_id", std::to_string(f.pid));
        line("tcp_port", std::to_string(f.port));
        line("uptime_in_seconds", std::to_string(f.uptime_ms / 1000));
        line("uptime_in_days", std::to_string(f.uptime_ms / 86400000));
    }
    if (want("clients")) {
        section("Clients");
        line("connected_clients", std::to_string(f.connected_clients));
        line("maxclients", std::to_string(f.max_clients));
    }
    if (want("memory")) {
        section("Memory");
        line("used_memory", std::to_string(s.bytes));
        line("maxmemory", std::to_string(f.max_bytes));
        line("maxmemory_policy", "allkeys-lru");
        line("tricache_max_entries", std::to_string(f.max_entries));
    }
    if (want("stats")) {
        section("Stats");
        line("total_connections_received", std::to_string(f.total_connections));
        line("total_commands_processed", std::to_string(f.total_commands));
        line("rejected_connections", std::to_string(f.rejected_connections));
        line("evicted_keys", std::to_string(f.evicted_keys));
        line("expired_keys", std::to_string(f.expired_keys));
    }
    if (want("keyspace")) {
        section("Keyspace");
        if (s.entries > 0) line("db0", "keys=" + std::to_string(s.entries) + ",expires=0,avg_ttl=0");
    }
    if (want("cluster")) {
        section("Cluster");
        line("cluster_enabled", "0");
        std::string members;
        for (const auto& m : s.members) {
            members += (members.empty() ? "" : ",") + std::to_string(m.node) + "." + std::to_string(m.incarnation);
        }
        line("tricache_epoch", std::to_string(s.epoch));
        line("tricache_members", members);
        line("tricache_history", std::to_string(s.history));
        line("tricache_ready", s.ready ? "1" : "0");
        if (!s.ready) line("tricache_why_not_ready", s.why_not_ready);
        line("tricache_delivered", std::to_string(s.delivered));
        line("tricache_quorum_lost", f.quorum_lost ? "1" : "0");
        line("tricache_majority_unheard_ms", std::to_string(f.majority_unheard_ms));
        line("tricache_transactions_committed", std::to_string(f.transactions_committed));
        line("tricache_transactions_aborted", std::to_string(f.transactions_aborted));
        line("tricache_transactions_applied", std::to_string(f.transactions_applied));
        line("tricache_view_changes_started", std::to_string(f.view_changes_started));
        line("tricache_views_installed", std::to_string(f.views_installed));
        char hex[40];
        std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(s.log_hash));
        line("tricache_log_hash", hex);
        std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(s.digest));
        line("tricache_digest", hex);
    }
    return out;
}

Plan cmd_info(const Context& c) {
    std::vector<std::string> wanted(c.argv.begin() + 1, c.argv.end());
    NodeFacts facts = c.facts;
    return status_plan(c, [facts, wanted](Writer& w, const protocol::StatusReply& s) {
        w.verbatim(info_text(facts, s, wanted));
    });
}

// ------------------------------------------------------------------ the table

struct CommandSpec {
    std::string_view name;
    int arity;  // Redis style: n exactly, -n at least n
    std::string_view flags;  // space-separated, for COMMAND
    std::string_view group;
    std::string_view summary;
    int first_key, last_key, step;
    Plan (*run)(const Context&);
};

const std::vector<CommandSpec>& table() {
    static const std::vector<CommandSpec> t = {
        {"append", 3, "write denyoom", "string", "Appends a string to the value of a key.", 1, 1, 1, cmd_append},
        {"auth", -2, "noscript loading stale fast", "connection", "Authenticates the connection.",
         0, 0, 0, cmd_auth},
        {"client", -2, "", "connection", "CLIENT SETNAME, GETNAME, ID.", 0, 0, 0, cmd_client},
        {"command", -1, "loading stale", "server", "Returns detailed information about all commands.", 0, 0, 0,
         nullptr},
        {"config", -2, "", "server", "CONFIG GET: the node's configuration, read-only.", 0, 0, 0, cmd_config},
        {"dbsize", 1, "readonly fast", "server", "Returns the number of keys.", 0, 0, 0, cmd_dbsize},
        {"decr", 2, "write denyoom fast", "string", "Decrements the integer value of a key by one.", 1, 1, 1,
         [](const Context& c) { return plan_incr(c, -1); }},
        {"decrby", 3, "write denyoom fast", "string", "Decrements the integer value of a key by a number.", 1, 1, 1,
         [](const Context& c) { return cmd_incrby(c, true); }},
        {"del", -2, "write", "generic", "Deletes one or more keys.", 1, -1, 1, cmd_del},
        {"echo", 2, "fast", "connection", "Returns the given string.", 0, 0, 0, cmd_echo},
        {"exists", -2, "readonly fast", "generic", "Counts how many of the given keys exist.", 1, -1, 1, cmd_exists},
        {"expire", -3, "write fast", "generic", "Sets a key's time to live in seconds.", 1, 1, 1,
         [](const Context& c) { return cmd_expire(c, "expire", false, false); }},
        {"expireat", -3, "write fast", "generic", "Sets a key's expiry as a Unix time in seconds.", 1, 1, 1,
         [](const Context& c) { return cmd_expire(c, "expireat", false, true); }},
        {"flushall", -1, "write", "server", "Removes all keys (a replicated operation).", 0, 0, 0, cmd_flushall},
        {"flushdb", -1, "write", "server", "Removes all keys (a replicated operation).", 0, 0, 0, cmd_flushall},
        {"get", 2, "readonly fast", "string", "Returns the string value of a key.", 1, 1, 1, cmd_get},
        {"getdel", 2, "write fast", "string", "Returns the value of a key and deletes it.", 1, 1, 1, cmd_getdel},
        {"getex", -2, "write fast", "string", "Returns the value of a key and sets or removes its expiry.", 1, 1, 1,
         cmd_getex},
        {"hello", -1, "noscript loading stale fast", "connection", "Handshakes with the server (RESP2 or RESP3).", 0,
         0, 0, cmd_hello},
        {"incr", 2, "write denyoom fast", "string", "Increments the integer value of a key by one.", 1, 1, 1,
         [](const Context& c) { return plan_incr(c, 1); }},
        {"incrby", 3, "write denyoom fast", "string", "Increments the integer value of a key by a number.", 1, 1, 1,
         [](const Context& c) { return cmd_incrby(c, false); }},
        {"info", -1, "loading stale", "server", "Returns information about the node and its cluster.", 0, 0, 0,
         cmd_info},
        {"mget", -2, "readonly fast", "string", "Returns the values of one or more keys, atomically.", 1, -1, 1,
         cmd_mget},
        {"mset", -3, "write denyoom", "string", "Sets several keys atomically.", 1, -1, 2,
         [](const Context& c) { return cmd_mset(c, false); }},
        {"msetnx", -3, "write denyoom", "string", "Sets several keys atomically, only if none exists.", 1, -1, 2,
         [](const Context& c) { return cmd_mset(c, true); }},
        {"persist", 2, "write fast", "generic", "Removes a key's expiry.", 1, 1, 1, cmd_persist},
        {"pexpire", -3, "write fast", "generic", "Sets a key's time to live in milliseconds.", 1, 1, 1,
         [](const Context& c) { return cmd_expire(c, "pexpire", true, false); }},
        {"pexpireat", -3, "write fast", "generic", "Sets a key's expiry as a Unix time in milliseconds.", 1, 1, 1,
         [](const Context& c) { return cmd_expire(c, "pexpireat", true, true); }},
        {"ping", -1, "fast", "connection", "Returns PONG, or the given message.", 0, 0, 0, cmd_ping},
        {"psetex", 4, "write denyoom", "string", "Sets a key's value and its time to live in milliseconds.", 1, 1, 1,
         [](const Context& c) { return cmd_setex(c, true); }},
        {"pttl", 2, "readonly fast", "generic", "Returns a key's time to live in milliseconds.", 1, 1, 1,
         [](const Context& c) { return cmd_ttl(c, true); }},
        {"quit", -1, "noscript loading stale fast", "connection", "Closes the connection.", 0, 0, 0, cmd_quit},
        {"readonly", 1, "fast", "cluster", "Local reads on this connection: one node, no round, maybe stale.", 0, 0,
         0, cmd_readonly},
        {"readwrite", 1, "fast", "cluster", "Linearizable reads on this connection (the default).", 0, 0, 0,
         cmd_readwrite},
        {"scan", -2, "readonly", "generic", "Iterates over the keys.", 0, 0, 0, cmd_scan},
        {"select", 2, "loading stale fast", "connection", "Selects the database (only 0 exists).", 0, 0, 0,
         cmd_select},
        {"set", -3, "write denyoom", "string", "Sets the string value of a key (NX, XX, GET, EX, PX, EXAT, PXAT, KEEPTTL).",
         1, 1, 1, plan_set},
        {"setex", 4, "write denyoom", "string", "Sets a key's value and its time to live in seconds.", 1, 1, 1,
         [](const Context& c) { return cmd_setex(c, false); }},
        {"strlen", 2, "readonly fast", "string", "Returns the length of a key's value.", 1, 1, 1, cmd_strlen},
        {"ttl", 2, "readonly fast", "generic", "Returns a key's time to live in seconds.", 1, 1, 1,
         [](const Context& c) { return cmd_ttl(c, false); }},
        {"type", 2, "readonly fast", "generic", "Returns the type of a key (string or none).", 1, 1, 1, cmd_type},
        {"unlink", -2, "write fast", "generic", "Deletes one or more keys.", 1, -1, 1, cmd_del},
        {"wait", 3, "", "generic", "Returns how many other members hold every acknowledged write.", 0, 0, 0,
         cmd_wait},
    };
    return t;
}

const CommandSpec* find_command(std::string_view name) {
    const std::string l = lower(name);
    for (const auto& spec : table()) {
        if (spec.name == l) return &spec;
    }
    return nullptr;
}

void write_command_info(Writer& w, const CommandSpec& s) {
    w.array(10);
    w.bulk(s.name);
    w.integer(s.arity);
    std::vector<std::string_view> flags;
    for (std::size_t at = 0; at < s.flags.size();) {
        const std::size_t sp = std::min(s.flags.find(' ', at), s.flags.size());
        if (sp > at) flags.push_back(s.flags.substr(at, sp - at));
        at = sp + 1;
    }
    w.set(flags.size());
    for (const auto f : flags) w.simple(f);
    w.integer(s.first_key);
    w.integer(s.last_key);
    w.integer(s.step);
    w.set(0);    // ACL categories
    w.set(0);    // tips
    w.array(0);  // key specifications
    w.array(0);  // subcommands
}

Plan cmd_command(const Context& c) {
    const auto& t = table();
    if (c.argv.size() == 1) {
        return reply_with(c.session.protocol, [&](Writer& w) {
            w.array(t.size());
            for (const auto& s : t) write_command_info(w, s);
        });
    }
    const std::string sub = lower(c.argv[1]);
    if (sub == "count") {
        return reply_with(c.session.protocol, [&](Writer& w) { w.integer(static_cast<std::int64_t>(t.size())); });
    }
    if (sub == "info") {
        return reply_with(c.session.protocol, [&](Writer& w) {
            if (c.argv.size() == 2) {
                w.array(t.size());
                for (const auto& s : t) write_command_info(w, s);
                return;
            }
            w.array(c.argv.size() - 2);
            for (std::size_t i = 2; i < c.argv.size(); ++i) {
                if (const auto* s = find_command(c.argv[i])) {
                    write_command_info(w, *s);
                } else {
                    w.null_array();
                }
            }
        });
    }
    if (sub == "docs") {
        std::vector<const CommandSpec*> docs;
        if (c.argv.size() == 2) {
            for (const auto& s : t) docs.push_back(&s);
        } else {
            for (std::size_t i = 2; i < c.argv.size(); ++i) {
                if (const auto* s = find_command(c.argv[i])) docs.push_back(s);
            }
        }
        return reply_with(c.session.protocol, [&](Writer& w) {
            w.map(docs.size());
            for (const auto* s : docs) {
                w.bulk(s->name);
                w.map(3);
                w.bulk("summary");
                w.bulk(s->summary);
                w.bulk("since");
                w.bulk("1.0.0");
                w.bulk("group");
                w.bulk(s->group);
            }
        });
    }
    if (sub == "list") {
        return reply_with(c.session.protocol, [&](Writer& w) {
            w.array(t.size());
            for (const auto& s : t) w.bulk(s.name);
        });
    }
    return error_plan(c, "ERR unknown subcommand '" + c.argv[1].substr(0, 128) + "'. Try COMMAND HELP.");
}

}  // namespace

void write_engine_error(Writer& w, const ErrorReply& e) {
    switch (e.code) {
        case ErrorCode::NoQuorum: return w.error("NOQUORUM " + e.detail);
        case ErrorCode::NotReady: return w.error("NOTREADY " + e.detail);
        case ErrorCode::TimeoutOutcomeUnknown: return w.error("TIMEOUT outcome unknown: " + e.detail);
        case ErrorCode::TooLarge: return w.error("TOOLARGE " + e.detail);
        case ErrorCode::Overloaded: return w.error("OVERLOADED " + e.detail);
        case ErrorCode::Aborted: return w.error("ABORTED nothing was applied: " + e.detail);
        case ErrorCode::NeedsRebootstrap: return w.error("NEEDSREBOOTSTRAP " + e.detail);
        case ErrorCode::WrongCluster: return w.error("WRONGCLUSTER " + e.detail);
        default: return w.error("ERR " + std::string(protocol::error_name(e.code)) + ": " + e.detail);
    }
}

bool glob_match(std::string_view p, std::string_view s, bool nocase) {
    const auto fold = [nocase](char ch) {
        return nocase ? static_cast<char>(std::tolower(static_cast<unsigned char>(ch))) : ch;
    };
    // Iterative with one backtrack point for '*': linear in practice, never recursive.
    std::size_t pi = 0;
    std::size_t si = 0;
    std::size_t star_p = std::string_view::npos;
    std::size_t star_s = 0;
    while (si < s.size()) {
        bool advanced = false;
        if (pi < p.size()) {
            const char pc = p[pi];
            if (pc == '*') {
                while (pi < p.size() && p[pi] == '*') ++pi;
                if (pi == p.size()) return true;
                star_p = pi;
                star_s = si;
                continue;
            }
            if (pc == '?') {
                ++pi;
                ++si;
                advanced = true;
            } else if (pc == '[') {
                std::size_t q = pi + 1;
                const bool negate = q < p.size() && p[q] == '^';
                if (negate) ++q;
                bool match = false;
                while (q < p.size() && p[q] != ']') {
                    if (p[q] == '\\' && q + 1 < p.size()) {
                        ++q;
                        if (fold(p[q]) == fold(s[si])) match = true;
                        ++q;
                    } else if (q + 2 < p.size() && p[q + 1] == '-' && p[q + 2] != ']') {
                        char lo = fold(p[q]);
                        char hi = fold(p[q + 2]);
                        if (lo > hi) std::swap(lo, hi);
                        const char ch = fold(s[si]);
                        if (ch >= lo && ch <= hi) match = true;
                        q += 3;
                    } else {
                        if (fold(p[q]) == fold(s[si])) match = true;
                        ++q;
                    }
                }
                if (negate) match = !match;
                if (match) {
                    pi = q < p.size() ? q + 1 : q;
                    ++si;
                    advanced = true;
                }
            } else {
                char want = pc;
                std::size_t step = 1;
                if (pc == '\\' && pi + 1 < p.size()) {
                    want = p[pi + 1];
                    step = 2;
                }
                if (fold(want) == fold(s[si])) {
                    pi += step;
                    ++si;
                    advanced = true;
                }
            }
        }
        if (!advanced) {
            if (star_p == std::string_view::npos) return false;
            pi = star_p;
            si = ++star_s;
        }
    }
    while (pi < p.size() && p[pi] == '*') ++pi;
    return pi == p.size();
}

bool same_secret(std::string_view a, std::string_view b) {
    // Every byte of the longer one is looked at, whatever matched before.
    const std::size_t n = std::max(a.size(), b.size());
    unsigned diff = a.size() == b.size() ? 0u : 1u;
    for (std::size_t i = 0; i < n; ++i) {
        const auto x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0u;
        const auto y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0u;
        diff |= x ^ y;
    }
    return diff == 0;
}

std::vector<std::string> command_names() {
    std::vector<std::string> names;
    for (const auto& s : table()) names.emplace_back(s.name);
    return names;
}

// MULTI/EXEC are not served, but a client library's transaction must not be
// run command by command behind an EXEC that then fails: after MULTI every
// command is only queued (+QUEUED, as Redis answers) and EXEC discards them
// all with EXECABORT, so the client's error is true: nothing was applied.
std::optional<Plan> plan_multi(const Context& c, std::string_view name) {
    const bool multi = iequals(name, "multi");
    const bool exec = iequals(name, "exec");
    const bool discard = iequals(name, "discard");
    if (!c.session.in_multi) {
        if (multi) {
            c.session.in_multi = true;
            return ok_plan(c);
        }
        if (exec) return error_plan(c, "ERR EXEC without MULTI");
        if (discard) return error_plan(c, "ERR DISCARD without MULTI");
        return std::nullopt;
    }
    if (multi) return error_plan(c, "ERR MULTI calls can not be nested");
    if (discard) {
        c.session.in_multi = false;
        return ok_plan(c);
    }
    if (exec) {
        c.session.in_multi = false;
        return error_plan(c, "EXECABORT Transaction discarded: tricache does not run MULTI/EXEC transactions, and "
                             "none of the queued commands was applied (send them without MULTI, or use MSET/MSETNX)");
    }
    if (iequals(name, "quit")) return std::nullopt;
    return reply_with(c.session.protocol, [](Writer& w) { w.simple("QUEUED"); });
}

// Before AUTH, only AUTH, HELLO and QUIT run; an unknown command or a wrong
// arity is still reported as such first, as Redis checks those before AUTH.
bool allowed_before_auth(std::string_view name) {
    return iequals(name, "auth") || iequals(name, "hello") || iequals(name, "quit");
}

Plan plan_command(const Args& argv, Session& session, const NodeFacts& facts) {
    const Context c{argv, session, facts};
    const CommandSpec* spec = find_command(argv.at(0));
    const bool transaction_word = iequals(argv[0], "multi") || iequals(argv[0], "exec") || iequals(argv[0], "discard");
    if (needs_auth(session) && !allowed_before_auth(argv[0]) && (spec != nullptr || transaction_word)) {
        const auto n = argv.size();
        const bool arity_ok = spec == nullptr || (spec->arity > 0 && n == static_cast<std::size_t>(spec->arity)) ||
                              (spec->arity < 0 && n >= static_cast<std::size_t>(-spec->arity));
        if (arity_ok) return error_plan(c, kNoAuth);
    }
    if (auto p = plan_multi(c, argv.at(0))) return std::move(*p);
    if (spec == nullptr) {
        std::string args;
        for (std::size_t i = 1; i < argv.size() && args.size() < 128; ++i) {
            args += "'" + argv[i].substr(0, 128 - args.size()) + "' ";
        }
        return error_plan(c, "ERR unknown command '" + argv[0].substr(0, 128) + "', with args beginning with: " + args);
    }
    const auto n = static_cast<int>(std::min<std::size_t>(argv.size(), std::numeric_limits<int>::max()));
    if ((spec->arity > 0 && n != spec->arity) || (spec->arity < 0 && n < -spec->arity)) {
        return error_plan(c, "ERR wrong number of arguments for '" + std::string(spec->name) + "' command");
    }
    if (spec->run == nullptr) return cmd_command(c);
    return spec->run(c);
}

}  // namespace tricache::node::resp
