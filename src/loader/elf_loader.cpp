#include "loader/elf_loader.h"
