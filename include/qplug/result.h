// Result<T>: a value or an Error, Zydis-style status handling without exceptions
// on paths that see untrusted input (ELF files, command lines, guest code).
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace qplug {

struct Error {
  std::string message;  // one line, no trailing newline, names the problem
  int exit_status = 1;  // what `qplug` exits with when this error is fatal
  // Non-zero: when fatal, qplug dies of this signal instead of exiting, as the
  // kernel kills a process whose execve fails after the point of no return.
  int signal = 0;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  const T& value() const& { return std::get<0>(v_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() { return value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

inline Error make_error(std::string message, int exit_status = 1) {
  return Error{std::move(message), exit_status};
}

}  // namespace qplug
