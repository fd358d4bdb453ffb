#include "progress.h"

#include <unistd.h>

#include <cstdio>

namespace qplug_cov {
namespace {

// Runs shorter than this show nothing; a terminal line is redrawn at most this
// often (writing it for each of thousands of files would cost more than them).
constexpr auto kQuiet = std::chrono::seconds(1);
constexpr auto kRedraw = std::chrono::milliseconds(100);
constexpr size_t kWidth = 100;  // a terminal line longer than its width would scroll

}  // namespace

Progress::Progress(Mode mode)
    : mode_(mode), tty_(isatty(STDERR_FILENO) != 0), start_(Clock::now()), last_(start_) {
  if (mode_ == Mode::kAuto && tty_) timer_ = std::thread([this] { Tick(); });
}

Progress::~Progress() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (timer_.joinable()) timer_.join();
  Done();
}

void Progress::Step(const char* what, size_t i, size_t n, const std::string& detail) {
  if (mode_ == Mode::kAuto && !tty_) return;
  std::string line = std::string("qplug-cov: ") + what;
  if (n) line += " " + std::to_string(i) + "/" + std::to_string(n);
  if (!detail.empty()) line += ": " + detail;
  std::lock_guard lock(mutex_);
  line_ = std::move(line);
  drawn_ = false;
  const auto now = Clock::now();
  if (mode_ == Mode::kAuto && now - start_ < kQuiet) return;  // the timer may draw it
  if (tty_ && shown_ && now - last_ < kRedraw && i != n) return;
  Draw();
}

void Progress::Draw() {
  last_ = Clock::now();
  drawn_ = true;
  if (!tty_) {
    std::fprintf(stderr, "%s\n", line_.c_str());
    return;
  }
  std::string line = line_;
  // The end of a long path says more than its start.
  if (line.size() > kWidth) line = line.substr(0, 40) + "..." + line.substr(line.size() - 57);
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
  shown_ = true;
}

void Progress::Tick() {
  std::unique_lock lock(mutex_);
  while (!stop_) {
    wake_.wait_for(lock, kRedraw);
    if (!stop_ && !drawn_ && Clock::now() - start_ >= kQuiet) Draw();
  }
}

void Progress::Done() {
  std::lock_guard lock(mutex_);
  line_.clear();
  drawn_ = true;
  if (!shown_) return;
  std::fputs("\r\033[K", stderr);
  std::fflush(stderr);
  shown_ = false;
}

}  // namespace qplug_cov
