// qplug's log (-D file, or its own copy of stderr) as a stdio stream whose
// every write(2) is a whole number of lines of one thread.
//
// Several processes of one run (followed execve, fork) append to one -D file,
// and several threads of one process print to one stream: a line must not be
// torn by another's. So the descriptor is opened O_APPEND (a write then lands
// at the end, whole), and the stream keeps each thread's unfinished line
// until its newline, then writes the thread's complete lines at once.
#pragma once

#include <cstdio>
#include <string>

namespace qplug::runtime {

// A stream writing to `fd` (which it owns and closes), or nullptr.
FILE* open_log_stream(int fd);
// -d tid: a stream writing each thread's lines to its own file, named after
// `file_template` with its "%d" replaced by the thread id; truncated when
// first opened unless `append` (a followed execve's new image).
FILE* open_per_thread_log_stream(const std::string& file_template, bool append);
// Writes the calling thread's unfinished line, if any (before the process
// ends or execs: nothing more may come to finish it).
void flush_log_line();

}  // namespace qplug::runtime
