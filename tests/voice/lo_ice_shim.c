/* Tests only: make Janus gather ICE candidates on the loopback interface.
 * Janus (src/ice.c) skips every interface flagged IFF_LOOPBACK; in the tests' private network
 * namespace lo is the only interface, so without this Janus has no candidate at all.
 * Loaded with LD_PRELOAD by the wrapper the voice tests write; never used by plaza serve. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <ifaddrs.h>
#include <net/if.h>

int getifaddrs(struct ifaddrs **ifap) {
    static int (*real)(struct ifaddrs **);
    if (!real)
        real = (int (*)(struct ifaddrs **))dlsym(RTLD_NEXT, "getifaddrs");
    int rc = real(ifap);
    if (rc == 0)
        for (struct ifaddrs *i = *ifap; i; i = i->ifa_next)
            i->ifa_flags &= ~IFF_LOOPBACK;
    return rc;
}
