// Text forms of replies for the CLI and scripts: one-line key=value and JSON.
// JSON is written by hand; json_string() escapes per RFC 8259 and writes any
// byte that is not part of valid UTF-8 as \u00XX, so the output always parses.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "protocol/messages.hpp"

namespace tricache::client {

std::string json_string(std::string_view bytes);
std::string hex64(std::uint64_t v);  // 16 lower-case hex digits

// {"node":1,"incarnation":1,"epoch":1,"members":[{"node":1,"incarnation":1},...],"ready":true,
//  "why_not_ready":"","delivered":0,"log_hash":"<hex>","digest":"<hex>","entries":0,"bytes":0,"in_flight":0,
//  "history":1}
std::string status_json(const protocol::StatusReply& s);
// node=1 incarnation=1 epoch=1 ready=true delivered=0 log_hash=<hex> digest=<hex> entries=0 bytes=0
// in_flight=0 history=1 members=1:1,2:1 [why_not_ready="..."]
std::string status_line(const protocol::StatusReply& s);

std::string op_name(const protocol::Op& op);
std::string op_key(const protocol::Op& op);
// {"op":"get","key":"a","ok":true,"value":"1"}   (value omitted when absent)
std::string result_json(const protocol::Op& op, const protocol::OpResult& r);

}  // namespace tricache::client
