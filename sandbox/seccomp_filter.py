"""The seccomp allow-list of a code-node child, built in the worker with pyseccomp.

The worker exports the filter as raw BPF; the zygote installs those bytes in each
child with prctl, so libseccomp is never loaded inside the jail.
"""

import functools
import tempfile

PROT_EXEC = 0x4
SIG_UNBLOCK = 1

# What a forked CPython needs to compute, allocate, print to its pipes and exit.
# Everything else (execve, clone/fork, socket, open/openat, ptrace, unshare, mount,
# bpf, setitimer, rt_sigaction, kill, prlimit64, ...) kills the whole process.
ALLOWED_SYSCALLS = (
    "read", "write", "readv", "writev", "close", "lseek", "fstat", "newfstatat",
    "munmap", "mremap", "brk", "madvise", "futex", "getrandom", "clock_gettime",
    "clock_getres", "gettimeofday", "time", "clock_nanosleep", "nanosleep",
    "sched_yield", "getpid", "gettid", "getrusage", "times", "restart_syscall",
    "rt_sigreturn", "exit", "exit_group",
)
# Allowed only without PROT_EXEC: no new machine code even if memory is corrupted.
NO_EXEC_SYSCALLS = ("mmap", "mprotect")


class SeccompUnavailable(RuntimeError):
    """pyseccomp/libseccomp or kernel support for seccomp filters is missing."""


def kernel_supports_seccomp() -> bool:
    try:
        with open("/proc/self/status") as status:
            return any(line.startswith("Seccomp:") for line in status)
    except OSError:
        return False


@functools.lru_cache(maxsize=1)
def build_child_filter() -> bytes:
    """Raw BPF bytes of the child filter; raises SeccompUnavailable."""
    if not kernel_supports_seccomp():
        raise SeccompUnavailable("the kernel does not report seccomp support")
    try:
        import pyseccomp as seccomp
    except (ImportError, OSError, RuntimeError) as exc:  # pyseccomp raises on a missing libseccomp
        raise SeccompUnavailable(f"pyseccomp/libseccomp not usable: {exc}") from exc
    seccomp_filter = seccomp.SyscallFilter(seccomp.KILL_PROCESS)
    for name in ALLOWED_SYSCALLS:
        seccomp_filter.add_rule(seccomp.ALLOW, name)
    for name in NO_EXEC_SYSCALLS:
        seccomp_filter.add_rule(seccomp.ALLOW, name,
                                seccomp.Arg(2, seccomp.MASKED_EQ, PROT_EXEC, 0))
    # glibc's raise()/abort() unblock SIGABRT; blocking SIGPROF (to outlive the CPU
    # timer) stays forbidden.
    seccomp_filter.add_rule(seccomp.ALLOW, "rt_sigprocmask",
                            seccomp.Arg(0, seccomp.EQ, SIG_UNBLOCK))
    with tempfile.TemporaryFile() as out:
        seccomp_filter.export_bpf(out)
        out.flush()
        out.seek(0)
        program = out.read()
    if not program or len(program) % 8:
        raise SeccompUnavailable("libseccomp exported an empty or malformed BPF program")
    return program


def seccomp_problem() -> str | None:
    """Why the child filter cannot be built, or None when it can."""
    try:
        build_child_filter()
    except SeccompUnavailable as exc:
        return str(exc)
    return None

