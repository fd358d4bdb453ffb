// Shared by the api_*.cpp files: C ABI types as the plugin header lays them
// out, declared here without the header itself because one exported symbol
// serves several API versions with different C prototypes.
#pragma once

#include <cstddef>
#include <cstdint>

#define QPLUG_API __attribute__((visibility("default")))

struct qemu_plugin_scoreboard;

// qemu_plugin_u64: 16 bytes, passed by value in two registers.
struct QemuU64 {
  qemu_plugin_scoreboard* score;
  size_t offset;
};

// qemu_plugin_mem_value: 24 bytes, returned through a hidden pointer.
struct QemuMemValue {
  int type;
  union {
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    struct {
      uint64_t low, high;
    } u128;
  } data;
};
static_assert(sizeof(QemuU64) == 16 && sizeof(QemuMemValue) == 24);
