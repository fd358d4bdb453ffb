// qplug/qplug.h: everything a static C++ plugin or a custom tool needs.
#pragma once

#include "qplug/events.h"
#include "qplug/plugin_list.h"
#include "qplug/qemu_plugins.h"
#include "qplug/result.h"
#include "qplug/run.h"
#include "qplug/tool.h"
#include "qplug/translation.h"
#include "qplug/vcpu_storage.h"
