#include "gdbstub/protocol.h"

#include <doctest/doctest.h>

#include <string>

#include "gdbstub/registers.h"
#include "gdbstub/signals.h"

using namespace qplug::gdb;

TEST_CASE("frame: payload, '#', two hex digits of the byte sum") {
  CHECK(frame("OK") == "$OK#9a");
  CHECK(frame("") == "$#00");
  CHECK(checksum("qSupported") == 0x37);
}

TEST_CASE("PacketReader: packets, acks and interrupts from a split stream") {
  PacketReader r;
  const std::string stream = "+$g#67\x03-$m10,4#ff$qC#b4";
  // One byte at a time: nothing may depend on how reads split the stream.
  std::vector<PacketReader::Event> events;
  for (char c : stream) {
    r.feed(&c, 1);
    while (auto e = r.next()) events.push_back(*e);
  }
  REQUIRE(events.size() == 6);
  CHECK(events[0].kind == PacketReader::Kind::kAck);
  CHECK(events[1].kind == PacketReader::Kind::kPacket);
  CHECK(events[1].payload == "g");
  CHECK(events[2].kind == PacketReader::Kind::kInterrupt);
  CHECK(events[3].kind == PacketReader::Kind::kNack);
  CHECK(events[4].kind == PacketReader::Kind::kBadChecksum);
  CHECK(events[5].payload == "qC");
}

TEST_CASE("hex and binary encodings") {
  CHECK(to_hex(std::string("\x01\xab", 2)) == "01ab");
  CHECK(from_hex("01AB") == std::string("\x01\xab", 2));
  CHECK_FALSE(from_hex("abc"));
  CHECK_FALSE(from_hex("zz"));
  CHECK(parse_hex("7fff0000") == 0x7fff0000u);
  CHECK_FALSE(parse_hex(""));
  CHECK_FALSE(parse_hex("12g"));
  CHECK(hex_le(0x1122334455667788, 8) == "8877665544332211");
  CHECK(hex_le(0x202, 4) == "02020000");
  const std::string raw = std::string("a#b$c}d*e\0f", 11);
  const std::string escaped = escape_binary(raw);
  CHECK(escaped.find_first_of("#$*") == std::string::npos);
  CHECK(unescape_binary(escaped) == raw);
}

TEST_CASE("vCont: actions, signals and thread ids") {
  auto a = parse_vcont(";s:1f;c");
  REQUIRE(a);
  REQUIRE(a->size() == 2);
  CHECK((*a)[0].action == 's');
  CHECK((*a)[0].thread.value == 0x1f);
  CHECK((*a)[1].action == 'c');
  CHECK((*a)[1].thread.all());
  a = parse_vcont(";C0b:p2a.2b");
  REQUIRE(a);
  CHECK((*a)[0].action == 'c');
  CHECK((*a)[0].signal == 0x0b);
  CHECK((*a)[0].thread.value == 0x2b);
  CHECK_FALSE(parse_vcont(";x"));
  CHECK_FALSE(parse_vcont("c"));
}

TEST_CASE("Z and z packets") {
  auto b = parse_breakpoint("Z0,401000,1");
  REQUIRE(b);
  CHECK(b->insert);
  CHECK(b->type == 0);
  CHECK(b->addr == 0x401000);
  b = parse_breakpoint("z2,7ffe10,8;X1,0");
  REQUIRE(b);
  CHECK_FALSE(b->insert);
  CHECK(b->type == 2);
  CHECK(b->length == 8);
  CHECK_FALSE(parse_breakpoint("Z5,0,1"));
  CHECK_FALSE(parse_breakpoint("Z0,zz,1"));
}

TEST_CASE("qXfer reads: object, annex, window; replies 'm' or 'l'") {
  auto x = parse_xfer_read("qXfer:features:read:target.xml:0,ffb");
  REQUIRE(x);
  CHECK(x->object == "features");
  CHECK(x->annex == "target.xml");
  CHECK(x->length == 0xffb);
  x = parse_xfer_read("qXfer:auxv:read::10,20");
  REQUIRE(x);
  CHECK(x->annex.empty());
  CHECK(x->offset == 0x10);
  CHECK(xfer_reply("abcdef", 0, 4) == "mabcd");
  CHECK(xfer_reply("abcdef", 4, 4) == "lef");
  CHECK(xfer_reply("abcdef", 6, 4) == "l");
}

TEST_CASE("signal numbers: gdb's, not Linux's") {
  CHECK(to_gdb_signal(5) == 5);    // SIGTRAP
  CHECK(to_gdb_signal(11) == 11);  // SIGSEGV
  CHECK(to_gdb_signal(7) == 10);   // SIGBUS
  CHECK(to_gdb_signal(10) == 30);  // SIGUSR1
  CHECK(to_gdb_signal(17) == 20);  // SIGCHLD
  CHECK(to_gdb_signal(34) == 46);  // SIGRTMIN+2 = gdb's REALTIME_34
  for (int sig = 1; sig <= 64; ++sig) CHECK(from_gdb_signal(to_gdb_signal(sig)) == sig);
}

TEST_CASE("target description: amd64 features, every register in the plugin table") {
  const std::string& xml = target_xml();
  CHECK(xml.find("<architecture>i386:x86-64</architecture>") != std::string::npos);
  for (const char* f : {"org.gnu.gdb.i386.core", "org.gnu.gdb.i386.sse", "org.gnu.gdb.i386.linux",
                        "org.gnu.gdb.i386.segments"})
    CHECK(xml.find(f) != std::string::npos);
  // 24 core + 16 x87 + 17 SSE + orig_rax + 2 bases; the g packet's layout.
  CHECK(register_count() == 60);
  CHECK(register_size(0) == 8);    // rax
  CHECK(register_size(17) == 4);   // eflags
  CHECK(register_size(24) == 10);  // st0
  CHECK(register_size(40) == 16);  // xmm0
  CHECK(register_size(32) == 4);   // fctrl: found in the table (8 would be the fallback)
  CHECK(register_size(56) == 4);   // mxcsr
  CHECK(register_size(57) == 8);   // orig_rax
}
