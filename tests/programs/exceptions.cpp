// qtest_exceptions: a C++ exception unwinds through 50 frames whose
// destructors print, is caught, and its message is printed.
#include <cstdio>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct Frame {
  explicit Frame(int d) : depth(d) {}
  ~Frame() { std::cout << "~Frame " << depth << '\n'; }
  int depth;
};

std::string build_message() {
  // Many small allocations: one heap string per piece.
  std::vector<std::unique_ptr<std::string>> pieces;
  for (int i = 0; i < 500; i++)
    pieces.push_back(std::make_unique<std::string>("piece" + std::to_string(i * i % 97)));
  std::string s;
  for (const auto& p : pieces) s += *p + "-";
  return s;
}

[[gnu::noinline]] int dive(int depth, const std::string& msg) {
  Frame f(depth);
  if (depth == 50) throw std::runtime_error("thrown at depth 50: " + msg.substr(0, 40));
  return dive(depth + 1, msg) + 1;
}

struct CustomError : std::exception {
  const char* what() const noexcept override { return "custom error"; }
};

}  // namespace

int main() {
  std::string msg = build_message();
  try {
    dive(1, msg);
    std::cout << "not reached\n";
  } catch (const std::exception& e) {
    std::cout << "caught: " << e.what() << '\n';
  }
  std::cout << "message length " << msg.size() << " tail " << msg.substr(msg.size() - 20) << '\n';

  // Rethrow, nested catch, exception_ptr, catch(...).
  std::exception_ptr saved;
  try {
    try {
      throw CustomError();
    } catch (const CustomError& e) {
      std::cout << "inner caught " << e.what() << ", rethrowing\n";
      throw;
    }
  } catch (...) {
    saved = std::current_exception();
  }
  try {
    std::rethrow_exception(saved);
  } catch (const std::exception& e) {
    std::cout << "rethrown exception_ptr: " << e.what() << '\n';
  }
  try {
    throw 42;
  } catch (int v) {
    std::cout << "caught int " << v << '\n';
  }
  try {
    std::vector<int> v(3);
    (void)v.at(10);
  } catch (const std::out_of_range&) {
    std::cout << "caught out_of_range\n";
  }
  return 0;
}
