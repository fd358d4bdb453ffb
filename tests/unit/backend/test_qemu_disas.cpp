// qemu_disas_text against what qemu-x86_64 7.2 printed for the same bytes at
// the same addresses (tests/disas/qemu-7.2.txt, recorded by record.sh), and
// the same from several threads at once (each has its own Capstone handle).
#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "x86_64/qemu_disas.h"

using qplug::x86_64::qemu_disas_text;

namespace {

struct Recorded {
  uint64_t vaddr;
  std::vector<uint8_t> bytes;
  std::string text;
};

std::vector<Recorded> load_record() {
  std::ifstream in(QPLUG_DISAS_RECORD);
  REQUIRE(in);
  std::vector<Recorded> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t tab1 = line.find('\t'), tab2 = line.find('\t', tab1 + 1);
    REQUIRE(tab2 != std::string::npos);
    Recorded r;
    r.vaddr = std::stoull(line.substr(0, tab1), nullptr, 16);
    std::istringstream hex(line.substr(tab1 + 1, tab2 - tab1 - 1));
    unsigned byte;
    while (hex >> std::hex >> byte) r.bytes.push_back(static_cast<uint8_t>(byte));
    r.text = line.substr(tab2 + 1);
    out.push_back(std::move(r));
  }
  return out;
}

std::string text_of(const Recorded& r) {
  return qemu_disas_text(r.bytes.data(), r.bytes.size(), r.vaddr);
}

}  // namespace

TEST_CASE("qemu_disas_text: every instruction qemu-x86_64 7.2 printed") {
  const std::vector<Recorded> record = load_record();
  REQUIRE(record.size() > 300);
  for (const Recorded& r : record) {
    CAPTURE(r.vaddr);
    CHECK(text_of(r) == r.text);
  }
}

TEST_CASE("qemu_disas_text: QEMU's format details") {
  const uint8_t movq[] = {0x48, 0x8b, 0x44, 0x24, 0x18};
  CHECK(qemu_disas_text(movq, sizeof movq, 0x1000) == "movq 0x18(%rsp), %rax");
  const uint8_t nopl[] = {0x0f, 0x1f, 0x00};
  CHECK(qemu_disas_text(nopl, sizeof nopl, 0x1000) == "nopl (%rax)");
  const uint8_t ret[] = {0xc3};  // one space even without operands
  CHECK(qemu_disas_text(ret, sizeof ret, 0x1000) == "retq ");
  const uint8_t call[] = {0xe8, 0x00, 0x00, 0x00, 0x00};  // targets are absolute
  CHECK(qemu_disas_text(call, sizeof call, 0x401000) == "callq 0x401005");
  const uint8_t invalid[] = {0x0f, 0x04};  // no such opcode: Capstone's data form
  CHECK(qemu_disas_text(invalid, sizeof invalid, 0x1000) == ".byte 0x0f");
  CHECK(qemu_disas_text(ret, 0, 0x1000) == "");
}

TEST_CASE("qemu_disas_text: the same text from concurrent threads") {
  const std::vector<Recorded> record = load_record();
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (size_t t = 0; t < mismatches.size(); ++t) {
    threads.emplace_back([&record, &mismatches, t] {
      for (int round = 0; round < 20; ++round)
        for (const Recorded& r : record) mismatches[t] += text_of(r) != r.text;
    });
  }
  for (std::thread& t : threads) t.join();
  for (int m : mismatches) CHECK(m == 0);
}
