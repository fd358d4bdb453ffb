// Golden codegen: the host code emitted for a set of guest blocks under each
// kind of instrumentation, recorded as disassembly in golden/*.txt.
//
// Any change fails (a growth is named as such): the point is that code size
// changes are seen and reviewed. After an intended change, rewrite them with
//
//   QPLUG_UPDATE_GOLDENS=1 build/tests/unit_backend -tc='golden*'
//
// and review the diff. Also checked: a plugin list that adds no action emits
// exactly the uninstrumented bytes.
#include <doctest/doctest.h>
#include <sys/mman.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "qplug/qplug.h"
#include "runtime/block.h"
#include "runtime/tb_impl.h"
#include "x86_64/decoder.h"
#include "x86_64/emitter.h"

namespace {

using qplug::x86_64::DecodedInsn;
using qplug::x86_64::Decoder;

constexpr uint64_t kGuestPc = 0x401000;
constexpr int64_t kTls = -0x10000;  // any %fs offset will do: the code never runs

uint8_t* code_buffer() {
  static auto* buf = static_cast<uint8_t*>(
      mmap(reinterpret_cast<void*>(0x10000000), 1 << 16, PROT_READ | PROT_WRITE,
           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0));
  REQUIRE(buf == reinterpret_cast<uint8_t*>(0x10000000));
  return buf;
}

// A direct-call target at a fixed distance from the code, so the encoding
// (rel32) does not depend on where the test binary is loaded. Its code,
// `vzeroupper; ret`, touches the vector state, so calls that may let it do
// so must save that state.
qplug::DirectFn fake_target() {
  static const uint8_t kCode[] = {0xC5, 0xF8, 0x77, 0xC3};
  std::memcpy(code_buffer() + 0x8000, kCode, sizeof kCode);
  return reinterpret_cast<qplug::DirectFn>(code_buffer() + 0x8000);
}

// A callback the inliner copies into the block: `add qword [rsi+rdi*8], 1`
// (a per-vCPU counter: it reads both arguments and writes the flags).
qplug::DirectFn inlinable_target() {
  static const uint8_t kCode[] = {0x48, 0x83, 0x04, 0xFE, 0x01, 0xC3};
  std::memcpy(code_buffer() + 0x8100, kCode, sizeof kCode);
  return reinterpret_cast<qplug::DirectFn>(code_buffer() + 0x8100);
}

struct Snippet {
  const char* name;
  std::vector<uint8_t> bytes;
};

const std::vector<Snippet>& snippets() {
  static const std::vector<Snippet> s = {
      // add rax, rbx; cmp rax, 10; jne +0x20: flags dead at entry
      {"alu_jcc", {0x48, 0x01, 0xD8, 0x48, 0x83, 0xF8, 0x0A, 0x75, 0x20}},
      // adc rax, 1; mov [rdi], rax; ret: flags live at entry (adc reads CF)
      {"adc_store_ret", {0x48, 0x83, 0xD0, 0x01, 0x48, 0x89, 0x07, 0xC3}},
      // mov rax, [rip+0x100]; push rbx; call rel32
      {"riprel_push_call", {0x48, 0x8B, 0x05, 0x00, 0x01, 0x00, 0x00, 0x53, 0xE8, 0, 0x10, 0, 0}},
      // lea rax, [rbx+rcx*4]; jmp rax
      {"indirect_jmp", {0x48, 0x8D, 0x04, 0x8B, 0xFF, 0xE0}},
  };
  return s;
}

std::vector<DecodedInsn> decode(const Snippet& s) {
  static const Decoder decoder;
  std::vector<DecodedInsn> insns;
  size_t off = 0;
  while (off < s.bytes.size()) {
    DecodedInsn d;
    REQUIRE(decoder.decode(s.bytes.data() + off, s.bytes.size() - off, kGuestPc + off, d));
    insns.push_back(d);
    off += d.length();
    if (d.kind != qplug::x86_64::InsnKind::kPlain) break;
  }
  return insns;
}

struct Emitted {
  std::vector<uint8_t> bytes;
  std::string listing;
};

// Emits the block with `instr` (or none) and lists it as Intel disassembly,
// with the addresses of callout records (heap, so not reproducible) named.
Emitted emit(const std::vector<DecodedInsn>& insns, uint64_t end_pc,
             const qplug::runtime::BlockInstrumentation* instr,
             qplug::x86_64::EntryPlacement entry = qplug::x86_64::EntryPlacement::kInline) {
  qplug::runtime::Block block;
  qplug::x86_64::EmitEnv env;
  env.tls = kTls;
  env.vector_bytes = 64;
  uint8_t* where = code_buffer();
  uint8_t* cold = where + 0x6000;  // below the call target at 0x8000
  std::memset(where, 0xCC, 1 << 15);
  const auto st = qplug::x86_64::emit_block(insns, end_pc, {where, 0x6000, cold, 0x2000}, block,
                                            env, instr, entry);
  REQUIRE_MESSAGE(st.ok, st.error);
  Emitted out;
  out.bytes.assign(where, where + st.size);
  out.bytes.insert(out.bytes.end(), cold, cold + st.cold_size);
  static const Decoder decoder;
  std::vector<std::pair<std::string, std::string>> names;
  // Named in emission order (the block keeps its newest callout first).
  std::vector<const qplug::runtime::Action*> callouts;
  for (const auto& a : block.callouts) callouts.insert(callouts.begin(), &a);
  size_t i = 0;
  for (const auto* a : callouts) {
    char hex[32];
    std::snprintf(hex, sizeof hex, "0x%lX", reinterpret_cast<unsigned long>(a));
    names.emplace_back(hex, "<callout" + std::to_string(i++) + ">");
  }
  i = 0;
  for (const auto& stub : block.exits) {
    char hex[32];
    std::snprintf(hex, sizeof hex, "0x%lX", reinterpret_cast<unsigned long>(stub.get()));
    names.emplace_back(hex, "<exit" + std::to_string(i++) + ">");
  }
  std::ostringstream listing;
  auto list = [&](const uint8_t* code, size_t size, const char* prefix) {
    for (size_t off = 0; off < size;) {
      DecodedInsn d;
      if (!decoder.decode(code + off, size - off, reinterpret_cast<uint64_t>(code + off), d)) {
        listing << "  " << prefix << off << ": (bytes)\n";
        break;
      }
      std::string text = decoder.format(d);
      for (const auto& [hex, name] : names)
        for (size_t p; (p = text.find(hex)) != std::string::npos;)
          text.replace(p, hex.size(), name);
      listing << "  " << prefix << off << ": " << text << "\n";
      off += d.length();
    }
  };
  list(where, st.size, "+");
  list(cold, st.cold_size, "cold+");
  out.listing = listing.str();
  return out;
}

// ---- the instrumentation kinds, as static plugins ----

struct Silent {  // sees every block, asks for nothing
  void tb_trans(qplug::Tb&) {}
};
struct InlineCounter {
  qplug::Counter blocks, insns;
  void tb_trans(qplug::Tb& tb) {
    tb.add(blocks, 1);
    for (size_t i = 0; i < tb.n_insns(); ++i) tb.insn(i).add(insns, 1);
  }
};
struct CondCall {
  qplug::Counter hits;
  void tb_trans(qplug::Tb& tb) {
    tb.add(hits, 1);
    tb.call_if(hits, qplug::Cond::kGe, 1000, fake_target(), 42, {.touches_vector = false});
  }
};
struct DirectCall {
  void tb_trans(qplug::Tb& tb) { tb.call(fake_target(), 7, {.touches_vector = false}); }
};
struct InlinedCall {
  void tb_trans(qplug::Tb& tb) { tb.call(inlinable_target(), 0x1000, {.touches_vector = false}); }
};
struct DirectCallVector {
  void tb_trans(qplug::Tb& tb) { tb.call(fake_target(), 7); }
};
struct Record {
  qplug::RecordBuffer buffer{64, nullptr};
  void tb_trans(qplug::Tb& tb) { tb.record(buffer, tb.vaddr()); }
};
struct MemRecord {
  qplug::RecordBuffer buffer{64, nullptr};
  void tb_trans(qplug::Tb& tb) {
    for (size_t i = 0; i < tb.n_insns(); ++i) tb.insn(i).mem_record(buffer);
  }
};

template <class Plugin>
Emitted instrumented(const std::vector<DecodedInsn>& insns, uint64_t end_pc) {
  static qplug::plugin_list<Plugin> list;
  static qplug::detail::ListTool<qplug::plugin_list<Plugin>> tool(list);
  qplug::runtime::BlockInstrumentation instr;
  instr.before_insn.resize(insns.size());
  instr.mem_of_insn.resize(insns.size());
  qplug::detail::TbImpl impl{insns, &instr};
  qplug::Tb tb(&impl);
  tool.tb_trans(tb);
  return emit(insns, end_pc, &instr);
}

using Kind = std::function<Emitted(const std::vector<DecodedInsn>&, uint64_t)>;

const std::vector<std::pair<const char*, Kind>>& kinds() {
  static const std::vector<std::pair<const char*, Kind>> k = {
      {"none", [](const auto& insns, uint64_t end) { return emit(insns, end, nullptr); }},
      {"none_cold_entry",
       [](const auto& insns, uint64_t end) {
         return emit(insns, end, nullptr, qplug::x86_64::EntryPlacement::kCold);
       }},
      {"inline_counter", instrumented<InlineCounter>},
      {"cond_call", instrumented<CondCall>},
      {"direct_call", instrumented<DirectCall>},
      {"direct_call_vector", instrumented<DirectCallVector>},
      {"inlined_call", instrumented<InlinedCall>},
      {"record", instrumented<Record>},
      {"mem_record", instrumented<MemRecord>},
  };
  return k;
}

std::string golden_path(const std::string& snippet) {
  return std::string(QPLUG_GOLDEN_DIR) + "/" + snippet + ".txt";
}

size_t total_bytes(const std::string& text) {  // sum of the "(N bytes)" headers
  size_t total = 0;
  for (size_t p = 0; (p = text.find(" bytes)", p)) != std::string::npos; ++p) {
    size_t b = text.rfind('(', p);
    total += std::stoul(text.substr(b + 1, p - b - 1));
  }
  return total;
}

}  // namespace

TEST_CASE("golden: an empty plugin list translates to exactly the uninstrumented code") {
  qplug::plugin_list<> empty;
  qplug::detail::ListTool<qplug::plugin_list<>> tool(empty);
  CHECK_FALSE(tool.instruments());  // blocks are not even shown to it
  CHECK_FALSE(tool.watches_syscalls());
  for (const Snippet& s : snippets()) {
    const auto insns = decode(s);
    const uint64_t end = insns.back().next_pc();
    INFO("guest block " << s.name);
    // Compared as listings: the exit records' (heap) addresses are named there.
    const Emitted plain = emit(insns, end, nullptr), silent = instrumented<Silent>(insns, end);
    CHECK(plain.bytes.size() == silent.bytes.size());
    CHECK(plain.listing == silent.listing);
  }
}

TEST_CASE("golden: host code per instrumentation kind") {
  const bool update = std::getenv("QPLUG_UPDATE_GOLDENS") != nullptr;
  for (const Snippet& s : snippets()) {
    const auto insns = decode(s);
    const uint64_t end = insns.back().next_pc();
    std::ostringstream text;
    text << "# guest block " << s.name << " (tests/unit/backend/test_codegen_golden.cpp)\n";
    for (const auto& [kind, fn] : kinds()) {
      const Emitted e = fn(insns, end);
      text << "== " << kind << " (" << e.bytes.size() << " bytes)\n" << e.listing;
    }
    const std::string path = golden_path(s.name);
    if (update) {
      std::ofstream(path) << text.str();
      continue;
    }
    std::ifstream in(path);
    REQUIRE_MESSAGE(in.good(),
                    "missing golden " << path << "; create it with QPLUG_UPDATE_GOLDENS=1");
    std::stringstream expected;
    expected << in.rdbuf();
    const size_t was = total_bytes(expected.str()), now = total_bytes(text.str());
    INFO("golden " << path << ": " << (now > was ? "code grew" : "code changed") << " (" << was
                   << " -> " << now << " bytes); if intended, rewrite with "
                   << "QPLUG_UPDATE_GOLDENS=1 build/tests/unit_backend -tc='golden*' and review "
                   << "the diff");
    CHECK(text.str() == expected.str());
  }
}
