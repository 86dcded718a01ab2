// The client library's error and result values (every failure is a value).
#pragma once

#include <string>
#include <utility>
#include <variant>

#include "protocol/errors.hpp"

namespace tricache::client {

struct Error {
    protocol::ErrorCode code = protocol::ErrorCode::BadRequest;
    std::string detail;
    bool outcome_unknown() const { return code == protocol::ErrorCode::TimeoutOutcomeUnknown; }
    std::string to_string() const { return std::string(protocol::error_name(code)) + ": " + detail; }
};

template <class T>
class Result {
public:
    Result(T value) : v_(std::move(value)) {}     // NOLINT(google-explicit-constructor)
    Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
    bool ok() const { return std::holds_alternative<T>(v_); }
    explicit operator bool() const { return ok(); }
    const T& value() const& { return std::get<T>(v_); }
    T& value() & { return std::get<T>(v_); }
    T&& value() && { return std::get<T>(std::move(v_)); }
    const Error& error() const { return std::get<Error>(v_); }

private:
    std::variant<T, Error> v_;
};

}  // namespace tricache::client
