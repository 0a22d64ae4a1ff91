/**
 * @file common.h
 * @brief What every libdynmem module shares: the export macro, error codes,
 *        the allocator hook and the runtime version.
 *
 * @par Thread safety
 * Every function declared here is pure (no state, no allocation) and safe to
 * call from any thread at any time.
 */
#ifndef DYNMEM_COMMON_H
#define DYNMEM_COMMON_H

#include <stddef.h>
#include <stdint.h>

/**
 * @def DYNMEM_API
 * Marks a function as part of the public, exported ABI.
 *
 * Define DYNMEM_NO_ATTRIBUTES before including any libdynmem header to make
 * this (and every other attribute macro) expand to nothing, e.g. so that the
 * preprocessed headers can be fed to a C declaration parser such as cffi.
 */
#if defined(DYNMEM_NO_ATTRIBUTES)
#define DYNMEM_API
#elif defined(_WIN32) && defined(DYNMEM_BUILDING_DLL)
#define DYNMEM_API __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#define DYNMEM_API __attribute__((visibility("default")))
#else
#define DYNMEM_API
#endif

/**
 * @def DYNMEM_DEPRECATED_ENUMERATOR
 * Marks an enumerator kept only so that older callers still build: using it
 * draws a compiler warning naming its replacement. Empty under
 * DYNMEM_NO_ATTRIBUTES or DYNMEM_NO_DEPRECATION_WARNINGS.
 */
#if defined(DYNMEM_NO_ATTRIBUTES) || defined(DYNMEM_NO_DEPRECATION_WARNINGS)
#define DYNMEM_DEPRECATED_ENUMERATOR(msg)
#elif defined(__GNUC__) || defined(__clang__)
#define DYNMEM_DEPRECATED_ENUMERATOR(msg) __attribute__((deprecated(msg)))
#else
#define DYNMEM_DEPRECATED_ENUMERATOR(msg)
#endif

/** @cond INTERNAL */
#ifdef __cplusplus
#define DYNMEM_BEGIN_DECLS extern "C" {
#define DYNMEM_END_DECLS }
#else
#define DYNMEM_BEGIN_DECLS
#define DYNMEM_END_DECLS
#endif
/** @endcond */

DYNMEM_BEGIN_DECLS

/**
 * @defgroup errors Error codes
 * @{
 */

/**
 * The single list of error codes: X(NAME, value, description), each one
 * becoming DYNMEM_ERR_NAME. Success, DYNMEM_OK (0), is not in the list.
 *
 * Values are pinned forever: a code is never renumbered or reused, new codes
 * are only appended. Ranges: -1..-99 common, -100..-199 protocol codec,
 * -200..-299 page ranges and memory map, -300..-399 pressure estimator,
 * -400..-499 balancer, -500..-599 protocol sessions.
 * The enum, dynmem_strerror() and dynmem_error_name() are generated from it.
 * @param X a macro taking (NAME, value, description)
 */
#define DYNMEM_ERRORS(X) \
    X(INVALID_ARGUMENT,  -1, "invalid argument") \
    X(NO_MEMORY,         -2, "out of memory") \
    X(BUFFER_TOO_SMALL,  -3, "output buffer too small") \
    X(OUT_OF_RANGE,      -4, "value out of range") \
    X(OVERFLOW,          -5, "arithmetic overflow") \
    X(BAD_STATE,         -6, "operation not allowed in the current state") \
    X(NOT_FOUND,         -7, "no such object") \
    X(EXISTS,            -8, "object already exists") \
    X(UNSUPPORTED,       -9, "not supported") \
    X(STRUCT_SIZE,      -10, "structure size not supported by this library version") \
    X(STRUCT_RESERVED,  -11, "reserved or unknown structure fields are not zero") \
    X(BAD_ALLOCATOR,    -12, "allocator hook is incomplete") \
    /* Hyper-V Dynamic Memory wire codec (proto.h): -100..-199 */ \
    X(PROTO_TRUNCATED,       -100, "message truncated: more bytes are needed") \
    X(PROTO_HEADER_SIZE,     -101, "message header gives a size smaller than the header") \
    X(PROTO_TOO_LARGE,       -102, "message larger than the 4096-byte protocol limit") \
    X(PROTO_TRAILING_BYTES,  -103, "buffer holds bytes beyond the size in the message header") \
    X(PROTO_UNKNOWN_TYPE,    -104, "unknown message type") \
    X(PROTO_VERSION,         -105, "message type not part of the negotiated protocol version") \
    X(PROTO_BAD_SIZE,        -106, "message size is wrong for its type") \
    X(PROTO_TOO_MANY_RANGES, -107, "more page ranges than fit in one message") \
    X(PROTO_RANGE_COUNT,     -108, "page range count disagrees with the message size") \
    X(PROTO_BAD_INFO,        -109, "malformed info message record") \
    X(PROTO_BAD_RANGE,       -110, "page range does not fit a 40-bit start and 24-bit count") \
    X(PROTO_BAD_FIELD,       -111, "field value does not fit its wire encoding") \
    /* -200..-299: page ranges and memory map */ \
    X(PAGES_OUTSIDE,   -200, "pages are not guest memory") \
    X(PAGES_BALLOONED, -201, "pages are already ballooned") \
    X(PAGES_OVERLAP,   -202, "range overlaps memory already described") \
    /* pressure estimator */ \
    X(PRESSURE_TIME_BACKWARDS, -300, "time is before the latest sample or query") \
    X(PRESSURE_NO_DATA,        -301, "the guest has not reported the figures needed") \
    X(PRESSURE_INCONSISTENT,   -302, "reported figures contradict each other") \
    X(PRESSURE_UNALIGNED,      -303, "size is not a multiple of 2 MiB") \
    X(PRESSURE_MIN_ABOVE_MAX,  -304, "minimum is above maximum") \
    /* balancer: -400..-499 */ \
    X(CONFIG_STARTUP,   -400, "startup memory must be a non-zero multiple of 2 MiB") \
    X(CONFIG_MINIMUM,   -401, "minimum memory must be a non-zero multiple of 2 MiB, at most startup") \
    X(CONFIG_MAXIMUM,   -402, "maximum memory must be a multiple of 2 MiB, at least startup") \
    X(CONFIG_BUFFER,    -403, "memory buffer must be 5..2000 percent") \
    X(CONFIG_WEIGHT,    -404, "memory weight must be 0..10000") \
    X(CONFIG_ALIGNMENT, -405, "hot-add alignment must be a power of two from 2 MiB to 1 GiB") \
    X(CONFIG_FLAGS,     -406, "unknown VM flag, or a static VM whose minimum, startup and maximum differ") \
    X(ADMISSION,        -407, "not enough free host memory to start the VM") \
    X(PARTIAL,          -408, "the change was only partly possible") \
    X(INVARIANT,        -409, "the balancer's books are inconsistent") \
    X(CONFIG_HOST_MEMORY, -410, "host memory must be a non-zero multiple of 2 MiB") \
    X(CONFIG_RESERVE,   -411, "host reserve must be a multiple of 2 MiB below host memory") \
    X(CONFIG_DUPLICATE, -412, "two VMs share a name or an endpoint") \
    X(CONFIG_CALM_PERIOD, -413, "a VM's calm period must be 0..86400000 ms (0: the balancer's)") \
    /* protocol sessions (session.h): -500..-599 */ \
    X(SESSION_WRONG_STATE,    -500, "message not expected in the session's current state") \
    X(SESSION_TIME_BACKWARDS, -501, "time is before the session's latest time") \
    X(SESSION_VERSION_POLICY, -502, "protocol version refused by the session's policy") \
    X(SESSION_REJECTED,       -503, "the peer rejected every version or the capabilities") \
    X(SESSION_TIMEOUT,        -504, "the peer did not answer in time") \
    X(SESSION_TOO_MUCH,       -505, "the peer gave or claimed more than was asked") \
    X(SESSION_FLOOD,          -506, "messages arrive faster than the session takes them") \
    X(SESSION_DIRECTION,      -507, "message type only travels the other way") \
    X(SESSION_CLOSED,         -508, "the channel is not open")

/** @cond INTERNAL */
#define DYNMEM__ERROR_ENUMERATOR(name, value, text) DYNMEM_ERR_##name = (value),
/** @endcond */

/**
 * Error codes returned by libdynmem functions: 0 is success, every error is
 * negative. The full table with descriptions is in docs/errors.md and is
 * generated from DYNMEM_ERRORS().
 *
 * A NULL handle or NULL required pointer is refused with
 * DYNMEM_ERR_INVALID_ARGUMENT before a function looks at anything else, so
 * the answer never depends on the handle's state or the other arguments.
 * A function that returns no error code documents what it does with NULL
 * instead (a no-op, a NULL or 0 result).
 */
enum dynmem_error {
    DYNMEM_OK = 0, /**< success */
    DYNMEM_ERRORS(DYNMEM__ERROR_ENUMERATOR)
};

/**
 * Describe an error code in English.
 * @param code a value of enum dynmem_error (any int is accepted)
 * @return a static, NUL-terminated description; "unknown error" for a code
 *         this library version does not know. Never NULL, never to be freed.
 */
DYNMEM_API const char *dynmem_strerror(int code);

/**
 * Name an error code as it is spelled in the API.
 * @param code a value of enum dynmem_error (any int is accepted)
 * Like every function of libdynmem that names a value, it never returns
 * NULL: a value this library version does not know is named "unknown".
 * @return a static string such as "DYNMEM_ERR_NO_MEMORY" ("DYNMEM_OK" for 0);
 *         "unknown" for a code this library version does not know.
 *         Never NULL, never to be freed.
 */
DYNMEM_API const char *dynmem_error_name(int code);

/** @} */

/**
 * @defgroup allocator Allocator hook
 * @{
 */

/**
 * A caller-supplied allocator, given to every handle at creation.
 *
 * Passing NULL instead of a pointer to this struct means the C library's
 * malloc/realloc/free. The library copies the struct; the caller need not
 * keep it alive. Calls through the hook come only from the thread currently
 * using the handle that was created with it.
 *
 * Set @c size to sizeof(struct dynmem_allocator) (DYNMEM_ALLOCATOR_INIT does):
 * fields may be appended in later versions, and an older library accepts a
 * larger struct only if the fields it does not know are zero.
 */
struct dynmem_allocator {
    /** sizeof(struct dynmem_allocator) as compiled by the caller. */
    size_t size;
    /** Passed unchanged as the first argument of every hook. */
    void *user_data;
    /** Allocate @p n bytes (n > 0); return NULL on failure. Required. */
    void *(*malloc)(void *user_data, size_t n);
    /** Resize @p ptr to @p n bytes (n > 0); NULL on failure, @p ptr then
     *  untouched. Optional: if NULL the library uses malloc, copy and free. */
    void *(*realloc)(void *user_data, void *ptr, size_t n);
    /** Release @p ptr (never NULL) obtained from malloc or realloc. Required. */
    void (*free)(void *user_data, void *ptr);
};

/** Initializer for a struct dynmem_allocator with no hooks set yet. */
#define DYNMEM_ALLOCATOR_INIT { sizeof(struct dynmem_allocator), NULL, NULL, NULL, NULL }

/** @} */

/**
 * @defgroup version Runtime version
 * @{
 */

/**
 * The version of the library that is actually loaded.
 * @return the version as 0xMMmmuu, comparable with DYNMEM_VERSION_NUMBER
 *         and DYNMEM_VERSION_ENCODE()
 */
DYNMEM_API uint32_t dynmem_version(void);

/**
 * The version of the library that is actually loaded, as text.
 * @return a static string "MAJOR.MINOR.MICRO"; never NULL
 */
DYNMEM_API const char *dynmem_version_string(void);

/**
 * Check that the loaded library is at least the given version: call it at
 * start-up with the DYNMEM_VERSION_* macros of the headers you compiled
 * against to catch an older library installed at run time.
 * @param major required major version; must equal the library's major
 * @param minor required minor version
 * @param micro required micro version
 * @return 1 if the loaded library has the same major version and is at least
 *         major.minor.micro, 0 otherwise
 */
DYNMEM_API int dynmem_version_at_least(unsigned major, unsigned minor, unsigned micro);

/** @} */

DYNMEM_END_DECLS

#endif /* DYNMEM_COMMON_H */
