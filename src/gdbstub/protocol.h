// The gdb remote serial protocol's framing and encodings, without any I/O or
// target state: packets ($payload#checksum), acknowledgements, hex and binary
// escaping, and the parsing of the packets whose syntax has several parts
// (vCont, Z/z, qXfer). Written from the protocol's documentation (gdb manual,
// appendix "Remote Serial Protocol").
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qplug::gdb {

// The modulo-256 sum of the payload's bytes, as the two hex digits after '#'.
uint8_t checksum(std::string_view payload);
// "$payload#xx". The payload goes as it is: binary replies escape their data
// first (escape_binary), text replies never contain '$', '#' or '}'.
std::string frame(std::string_view payload);

// Splits the byte stream from gdb into packets. feed() takes bytes as they
// arrive; next() returns one event at a time.
class PacketReader {
 public:
  enum class Kind { kPacket, kBadChecksum, kInterrupt, kAck, kNack };
  struct Event {
    Kind kind;
    std::string payload;  // kPacket: the payload, still escaped (X packets)
  };
  void feed(const char* data, size_t len);
  std::optional<Event> next();

 private:
  std::string buffer_;
};

std::string to_hex(const void* data, size_t len);
std::string to_hex(std::string_view bytes);
// Hex digits to bytes; nullopt on an odd length or a non-hex digit.
std::optional<std::string> from_hex(std::string_view hex);
// A hex number (no sign, no prefix); nullopt if empty, invalid or too long.
std::optional<uint64_t> parse_hex(std::string_view text);
// Little-endian hex of the `size` bytes of `value` (register values).
std::string hex_le(uint64_t value, size_t size);

// Binary data in a packet: '#', '$', '}' and '*' become '}' and the byte
// XOR 0x20.
std::string escape_binary(std::string_view data);
std::string unescape_binary(std::string_view data);

// A thread id in a packet: -1 (all), 0 (any) or a thread's number.
struct ThreadId {
  int64_t value = 0;
  bool all() const { return value == -1; }
  bool any() const { return value == 0; }
};
std::optional<ThreadId> parse_thread_id(std::string_view text);

// One action of vCont (or of c, C, s, S): what the threads `thread` names do.
struct ResumeAction {
  char action = 'c';  // 'c' continue, 's' step, 't' stop
  int signal = 0;     // C and S: the signal to deliver
  ThreadId thread{-1};
};
// "vCont;a[:tid];..." (without the leading "vCont"): nullopt if malformed.
std::optional<std::vector<ResumeAction>> parse_vcont(std::string_view args);

// "Ztype,addr,kind" / "ztype,addr,kind" (conditions after ';' are ignored).
struct BreakpointRequest {
  bool insert = true;
  int type = 0;  // 0 software, 1 hardware, 2 write, 3 read, 4 access watchpoint
  uint64_t addr = 0;
  uint64_t length = 0;  // the kind (breakpoints) or the watched length
};
std::optional<BreakpointRequest> parse_breakpoint(std::string_view packet);

// "qXfer:object:read:annex:offset,length".
struct XferRequest {
  std::string object, annex;
  uint64_t offset = 0, length = 0;
};
std::optional<XferRequest> parse_xfer_read(std::string_view packet);
// The reply to a qXfer read of [offset, offset + length) of `data`: 'm' and
// the part if more follows, 'l' and the part if it is the end.
std::string xfer_reply(std::string_view data, uint64_t offset, uint64_t length);

}  // namespace qplug::gdb
