// Progress of a long qplug-cov run on standard error: many drcov files, large
// modules' debug info, genhtml. A run shorter than a second prints nothing,
// so that a report made at once is not preceded by lines to ignore.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <string>
#include <thread>

namespace qplug_cov {

class Progress {
 public:
  enum class Mode {
    kAuto,    // on a terminal, once the run has taken a second: one line, redrawn
    kAlways,  // --progress: every step from the start (one line each off a terminal)
  };
  explicit Progress(Mode mode);
  ~Progress();

  // "qplug-cov: WHAT I/N: DETAIL" (without "I/N" when n is 0).
  void Step(const char* what, size_t i, size_t n, const std::string& detail);
  // Clears the terminal line, before other output; later steps draw again.
  void Done();

 private:
  void Draw();  // with mutex_ held
  void Tick();  // the timer thread of kAuto on a terminal

  using Clock = std::chrono::steady_clock;
  const Mode mode_;
  const bool tty_;
  const Clock::time_point start_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::string line_;    // the current step
  bool drawn_ = true;   // line_ is on the terminal, or empty
  bool shown_ = false;  // a line is on the terminal
  bool stop_ = false;
  Clock::time_point last_;
  // One step can take long (one large module's DWARF, genhtml): a timer draws
  // it then, not only the next step.
  std::thread timer_;
};

}  // namespace qplug_cov
