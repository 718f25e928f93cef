/* Kernel constants that are preprocessor macros in the kernel's headers, so
 * vmlinux.h (which carries types and enums only) lacks them. One copy for
 * every program. Include after vmlinux.h. */
#ifndef LEAKWATCH_SOCKET_CONSTANTS_BPF_H
#define LEAKWATCH_SOCKET_CONSTANTS_BPF_H

#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10

#endif /* LEAKWATCH_SOCKET_CONSTANTS_BPF_H */
