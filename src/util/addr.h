/*
 * addr: a peer's UDP address (IPv4 or IPv6) as a compact value: hashed, compared, printed
 * and parsed. The CoAP and LwM2M cores use it as an opaque key; only net/ turns it into a
 * struct sockaddr.
 */
#ifndef LWM2MD_ADDR_H
#define LWM2MD_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sockaddr;

/* "[ffff:...:ffff]:65535" plus NUL fits. */
#define ADDR_STR_MAX 56

struct addr {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint16_t port;  /* host byte order */
	uint8_t ip[16]; /* IPv4 in the first 4 bytes */
};

/* Fills a from a sockaddr_in/_in6: 0, or -EAFNOSUPPORT for other families. */
int addr_from_sockaddr(struct addr *a, const struct sockaddr *sa);

/* Fills a struct sockaddr_storage-sized buffer; returns the sockaddr length. */
size_t addr_to_sockaddr(const struct addr *a, void *storage);

/* Parses "1.2.3.4:5683", "[::1]:5683" or "*:5683"/":5683" (any IPv4 address)
 * and "[::]:5683". Returns 0 or -EINVAL. */
int addr_parse(struct addr *a, const char *s);

/* Writes "1.2.3.4:5683" or "[::1]:5683". Returns buf. */
const char *addr_format(const struct addr *a, char buf[ADDR_STR_MAX]);

bool addr_equal(const struct addr *a, const struct addr *b);
uint64_t addr_hash(const struct addr *a);

#endif
