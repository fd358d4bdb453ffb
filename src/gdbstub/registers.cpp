#include "gdbstub/registers.h"

#include <cstring>
#include <string_view>
#include <vector>

#include "gdbstub/protocol.h"
#include "qemu/x86_registers.h"
#include "runtime/thread_state.h"

namespace qplug::gdb {

namespace {

struct Reg {
  const char* name;
  const char* type;
  const char* group;  // nullptr: gdb's default for the type
};

struct Feature {
  const char* name;
  const char* types;  // type definitions the registers use
  std::vector<Reg> regs;
};

// eflags and mxcsr as flag sets, so that `info registers` names the set bits.
constexpr const char kEflagsType[] = R"(<flags id="i386_eflags" size="4">
<field name="CF" start="0" end="0"/><field name="" start="1" end="1"/>
<field name="PF" start="2" end="2"/><field name="AF" start="4" end="4"/>
<field name="ZF" start="6" end="6"/><field name="SF" start="7" end="7"/>
<field name="TF" start="8" end="8"/><field name="IF" start="9" end="9"/>
<field name="DF" start="10" end="10"/><field name="OF" start="11" end="11"/>
<field name="NT" start="14" end="14"/><field name="RF" start="16" end="16"/>
<field name="VM" start="17" end="17"/><field name="AC" start="18" end="18"/>
<field name="VIF" start="19" end="19"/><field name="VIP" start="20" end="20"/>
<field name="ID" start="21" end="21"/>
</flags>
)";

constexpr const char kSseTypes[] = R"(<vector id="v4f" type="ieee_single" count="4"/>
<vector id="v2d" type="ieee_double" count="2"/>
<vector id="v16i8" type="int8" count="16"/>
<vector id="v8i16" type="int16" count="8"/>
<vector id="v4i32" type="int32" count="4"/>
<vector id="v2i64" type="int64" count="2"/>
<union id="vec128">
<field name="v4_float" type="v4f"/><field name="v2_double" type="v2d"/>
<field name="v16_int8" type="v16i8"/><field name="v8_int16" type="v8i16"/>
<field name="v4_int32" type="v4i32"/><field name="v2_int64" type="v2i64"/>
<field name="uint128" type="uint128"/>
</union>
<flags id="i386_mxcsr" size="4">
<field name="IE" start="0" end="0"/><field name="DE" start="1" end="1"/>
<field name="ZE" start="2" end="2"/><field name="OE" start="3" end="3"/>
<field name="UE" start="4" end="4"/><field name="PE" start="5" end="5"/>
<field name="DAZ" start="6" end="6"/><field name="IM" start="7" end="7"/>
<field name="DM" start="8" end="8"/><field name="ZM" start="9" end="9"/>
<field name="OM" start="10" end="10"/><field name="UM" start="11" end="11"/>
<field name="PM" start="12" end="12"/><field name="FZ" start="15" end="15"/>
</flags>
)";

std::vector<Feature> features() {
  std::vector<Reg> core;
  for (const char* r : {"rax", "rbx", "rcx", "rdx", "rsi", "rdi"})
    core.push_back({r, "int64", nullptr});
  core.push_back({"rbp", "data_ptr", nullptr});
  core.push_back({"rsp", "data_ptr", nullptr});
  for (const char* r : {"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"})
    core.push_back({r, "int64", nullptr});
  core.push_back({"rip", "code_ptr", nullptr});
  core.push_back({"eflags", "i386_eflags", nullptr});
  for (const char* r : {"cs", "ss", "ds", "es", "fs", "gs"}) core.push_back({r, "int32", nullptr});
  for (const char* r : {"st0", "st1", "st2", "st3", "st4", "st5", "st6", "st7"})
    core.push_back({r, "i387_ext", nullptr});
  for (const char* r : {"fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop"})
    core.push_back({r, "int", "float"});
  std::vector<Reg> sse;
  for (const char* r : {"xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
                        "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15"})
    sse.push_back({r, "vec128", "vector"});
  sse.push_back({"mxcsr", "i386_mxcsr", "vector"});
  return {
      {"org.gnu.gdb.i386.core", kEflagsType, std::move(core)},
      {"org.gnu.gdb.i386.sse", kSseTypes, std::move(sse)},
      {"org.gnu.gdb.i386.linux", "", {{"orig_rax", "int", nullptr}}},
      {"org.gnu.gdb.i386.segments", "", {{"fs_base", "int", nullptr}, {"gs_base", "int", nullptr}}},
  };
}

struct Layout {
  std::string xml;
  std::vector<size_t> index;  // into qemu::guest_registers(), by gdb register number
  std::vector<uint8_t> size;
  size_t fs_base = 0;  // gdb numbers of the registers the stub keeps itself
  size_t rip = 0;
};

Layout build() {
  Layout l;
  const auto table = qemu::guest_registers();
  l.xml =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
      "<target version=\"1.0\">\n<architecture>i386:x86-64</architecture>\n"
      "<osabi>GNU/Linux</osabi>\n";
  for (const Feature& f : features()) {
    l.xml += std::string("<feature name=\"") + f.name + "\">\n" + f.types;
    for (const Reg& r : f.regs) {
      size_t i = 0;
      while (i < table.size() && std::string_view(table[i].name) != r.name) ++i;
      const size_t n = l.index.size();
      if (std::string_view(r.name) == "fs_base") l.fs_base = n;
      if (std::string_view(r.name) == "rip") l.rip = n;
      l.index.push_back(i);  // every name is in the table (unit-tested)
      l.size.push_back(i < table.size() ? table[i].size : 8);
      l.xml += std::string("<reg name=\"") + r.name + "\" bitsize=\"" +
               std::to_string(8 * l.size.back()) + "\" type=\"" + r.type + "\"" +
               (r.group ? std::string(" group=\"") + r.group + "\"" : std::string()) + "/>\n";
    }
    l.xml += "</feature>\n";
  }
  l.xml += "</target>\n";
  return l;
}

const Layout& layout() {
  static const Layout l = build();
  return l;
}

}  // namespace

const std::string& target_xml() { return layout().xml; }
size_t register_count() { return layout().index.size(); }
size_t register_size(size_t n) { return layout().size[n]; }

std::string read_register_hex(const ThreadRegs& t, size_t n) {
  const Layout& l = layout();
  if (n == l.fs_base) return hex_le(*t.fs_base, 8);
  uint8_t bytes[16] = {};
  if (l.index[n] < qemu::guest_registers().size())
    qemu::read_guest_register(*t.ts, l.index[n], bytes);
  return to_hex(bytes, l.size[n]);
}

bool write_register(const ThreadRegs& t, size_t n, const uint8_t* bytes) {
  const Layout& l = layout();
  uint64_t value = 0;
  std::memcpy(&value, bytes, l.size[n] < 8 ? l.size[n] : 8);
  if (n == l.fs_base) {
    if (value >= (uint64_t{1} << 47)) return false;
    *t.fs_base = value;
    return true;
  }
  if (n == l.rip) {  // the dispatcher runs the thread from ts.rip when it resumes
    t.ts->rip = value;
    return true;
  }
  if (l.index[n] >= qemu::guest_registers().size()) return false;
  return qemu::write_guest_register(*t.ts, l.index[n], bytes);
}

}  // namespace qplug::gdb
