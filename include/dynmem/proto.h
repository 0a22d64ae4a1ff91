/**
 * @file proto.h
 * @brief Hyper-V Dynamic Memory wire codec: every message of protocol
 *        versions 0.3 (WIN7), 1.0 (WIN8) and 2.0 (WIN10), byte for byte.
 *
 * The codec turns bytes into plain-data messages and back. It never
 * allocates, never does I/O and keeps no state: the same call with the same
 * bytes always gives the same result. Bytes from the peer are untrusted: the
 * decoder checks every length and count before it reads, reads only through
 * byte loads (never an unaligned cast), and names each failure with its own
 * error code (-100..-199, see docs/errors.md). docs/protocol.md is the wire
 * format this header implements.
 *
 * @par One struct for every message, able to grow
 * A decoded message is a struct dynmem_proto_msg owned by the caller. It
 * starts with its own size (set it with DYNMEM_PROTO_MSG_INIT or
 * dynmem_proto_msg_init()) and ends with a union of per-type bodies padded
 * to 64 bytes. Later versions may append fields to a body inside that
 * padding, and add message types, without moving anything; a body that
 * outgrows the padding grows the struct, and the size prefix tells the
 * library how much the caller has. The decoder writes at most @c size bytes,
 * zeroing what it does not know. The encoder refuses
 * (DYNMEM_ERR_STRUCT_RESERVED) any non-zero byte it does not know: past its
 * own sizeof, or in the body past the fields of the message's type (they
 * may be fields of a newer API). So build each message from
 * DYNMEM_PROTO_MSG_INIT, or zero the body before reusing a struct for
 * another type. A tagged union was chosen over one decode function per type
 * because one call can then decode whatever arrives, which is what a host or
 * guest loop needs, and bindings see a single entry point.
 *
 * @par Framing
 * dynmem_proto_decode() reads one message from the start of a buffer. Given
 * a VMBus packet payload, it insists the buffer is exactly one message; given
 * a byte stream (a capture, a pipe), it says how many bytes the message used,
 * or how many it still needs. Either way it is a plain function, not a
 * decoder object: the caller keeps the bytes and no state is carried over.
 *
 * @par Page ranges
 * Range arrays are never copied by the decoder: a decoded message holds a
 * validated view (struct dynmem_proto_ranges) that points into the caller's
 * input buffer, so the buffer must outlive the message. Read the elements
 * with dynmem_proto_ranges_get() or copy them out with
 * dynmem_proto_ranges_copy(). Every 64-bit wire value is a well-formed range
 * (40-bit start, 24-bit count); whether the pages make sense is for the
 * memory map to judge, not the codec.
 *
 * @par Reserved bits
 * The encoder always writes reserved bits as zero. The decoder tolerates
 * them (QEMU sets bits that Linux treats as reserved) but reports them with
 * DYNMEM_PROTO_FLAG_RESERVED_BITS in dynmem_proto_msg::flags.
 *
 * @par Thread safety
 * Every function here is pure and reentrant: safe from any thread, as long
 * as two threads do not write the same output object.
 */
#ifndef DYNMEM_PROTO_H
#define DYNMEM_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dynmem/common.h>

DYNMEM_BEGIN_DECLS

/**
 * @defgroup proto Dynamic Memory wire codec
 * @{
 */

/** Build a protocol version number: major in the high 16 bits, minor low. */
#define DYNMEM_PROTO_VERSION(major, minor) \
    ((uint32_t)(((uint32_t)(major) << 16) | ((uint32_t)(minor) & 0xffffu)))
/** Major part of a protocol version number. */
#define DYNMEM_PROTO_VERSION_MAJOR(v) ((uint32_t)(v) >> 16)
/** Minor part of a protocol version number (all 16 bits). */
#define DYNMEM_PROTO_VERSION_MINOR(v) ((uint32_t)(v) & 0xffffu)
/** Protocol 0.3, spoken by Windows 7 era hosts and guests. */
#define DYNMEM_PROTO_VERSION_WIN7 0x00000003u
/** Protocol 1.0 (Windows 8): adds the info message. */
#define DYNMEM_PROTO_VERSION_WIN8 0x00010000u
/** Protocol 2.0 (Windows 10): adds the hot-remove messages. */
#define DYNMEM_PROTO_VERSION_WIN10 0x00020000u
/** The newest protocol version this header knows. */
#define DYNMEM_PROTO_VERSION_CURRENT DYNMEM_PROTO_VERSION_WIN10

/** Size of the header that starts every message, in bytes. */
#define DYNMEM_PROTO_HEADER_SIZE 8u
/** Largest message on the wire, header included (one 4 KiB page). */
#define DYNMEM_PROTO_MSG_SIZE_MAX 4096u
/** Most page ranges in a balloon response or unballoon request:
 *  (4096 - 16) / 8. A hot-remove response holds one fewer. */
#define DYNMEM_PROTO_RANGES_MAX 510u
/** Largest start page of a range (40 bits). */
#define DYNMEM_PROTO_RANGE_START_MAX ((UINT64_C(1) << 40) - 1)
/** Largest page count of one range (24 bits). */
#define DYNMEM_PROTO_RANGE_COUNT_MAX ((UINT64_C(1) << 24) - 1)

/** Message types, the first field of every header. Values are the wire values. */
enum dynmem_proto_type {
    DYNMEM_PROTO_ERROR = 0,                /**< error; no body is defined */
    DYNMEM_PROTO_VERSION_REQUEST = 1,      /**< guest proposes a version */
    DYNMEM_PROTO_VERSION_RESPONSE = 2,     /**< host accepts or rejects it */
    DYNMEM_PROTO_CAPABILITIES_REPORT = 3,  /**< guest states what it can do */
    DYNMEM_PROTO_CAPABILITIES_RESPONSE = 4,/**< host accepts the guest */
    DYNMEM_PROTO_STATUS_REPORT = 5,        /**< guest memory figures, no reply */
    DYNMEM_PROTO_BALLOON_REQUEST = 6,      /**< host asks for pages */
    DYNMEM_PROTO_BALLOON_RESPONSE = 7,     /**< guest gives page ranges */
    DYNMEM_PROTO_UNBALLOON_REQUEST = 8,    /**< host gives page ranges back */
    DYNMEM_PROTO_UNBALLOON_RESPONSE = 9,   /**< guest acknowledges */
    DYNMEM_PROTO_HOT_ADD_REQUEST = 10,     /**< host adds memory */
    DYNMEM_PROTO_HOT_ADD_RESPONSE = 11,    /**< guest says how much it added */
    DYNMEM_PROTO_INFO_MESSAGE = 12,        /**< host information (1.0 and later) */
    DYNMEM_PROTO_HOT_REMOVE_REQUEST = 13,  /**< host asks to remove memory (2.0) */
    DYNMEM_PROTO_HOT_REMOVE_RESPONSE = 14  /**< guest gives removed ranges (2.0) */
};

/**
 * @name Capability bits
 * Wire layout of the 64-bit capabilities word of a capabilities report;
 * dynmem_proto_caps_report holds the same information as separate fields.
 * @{
 */
/** The guest can inflate and deflate a balloon. */
#define DYNMEM_PROTO_CAP_BALLOON (UINT64_C(1) << 0)
/** The guest accepts hot-added memory. */
#define DYNMEM_PROTO_CAP_HOT_ADD (UINT64_C(1) << 1)
/** Shift of the 4-bit hot-add alignment: value n means 2^n MiB. */
#define DYNMEM_PROTO_CAP_ALIGNMENT_SHIFT 2
/** Mask of the 4-bit hot-add alignment. */
#define DYNMEM_PROTO_CAP_ALIGNMENT_MASK (UINT64_C(0xf) << 2)
/** The guest supports hot-remove (2.0; Linux treats this bit as reserved). */
#define DYNMEM_PROTO_CAP_HOT_REMOVE (UINT64_C(1) << 6)
/** @} */

/** The largest hot-add alignment exponent the 4-bit field holds: 2^15 MiB. */
#define DYNMEM_PROTO_ALIGNMENT_MAX 15u

/**
 * @name Capabilities-response bits
 * Wire layout of the 64-bit word of a capabilities response.
 * @{
 */
/** The host accepts the guest's capabilities. */
#define DYNMEM_PROTO_CAPS_ACCEPTED (UINT64_C(1) << 0)
/** The host may send hot-remove requests (QEMU sets it). */
#define DYNMEM_PROTO_CAPS_HOT_REMOVE (UINT64_C(1) << 1)
/** The host does not want status reports. */
#define DYNMEM_PROTO_CAPS_SUPPRESS_PRESSURE_REPORTS (UINT64_C(1) << 2)
/** @} */

/** Hot-remove quality-of-service flag: prefer large pages. */
#define DYNMEM_PROTO_REMOVE_QOS_LARGE 1u
/** Hot-remove quality-of-service flag: prefer node-local memory. */
#define DYNMEM_PROTO_REMOVE_QOS_LOCAL 2u
/** Info record type carrying the VM's maximum dynamic page count. */
#define DYNMEM_PROTO_INFO_MAX_PAGE_COUNT 0u

/**
 * @name Decode flags
 * Facts about the bytes a message was decoded from, in dynmem_proto_msg::flags.
 * @{
 */
/** A reserved field or bit was not zero (tolerated, not an error). */
#define DYNMEM_PROTO_FLAG_RESERVED_BITS (1u << 0)
/** A version request named a version other than 0.3, 1.0 and 2.0. */
#define DYNMEM_PROTO_FLAG_UNKNOWN_VERSION (1u << 1)
/** An info message's info_size disagreed with its length, or bytes followed
 *  its first record (both layouts are unverified, so they are tolerated). */
#define DYNMEM_PROTO_FLAG_INFO_SLACK (1u << 2)
/** @} */

/** One run of 4 KiB guest pages, unpacked. */
struct dynmem_proto_range {
    uint64_t start_page; /**< first page frame number (fits 40 bits on the wire) */
    uint64_t page_count; /**< number of pages (fits 24 bits on the wire) */
};

/**
 * The page ranges of a message: a view, not a copy.
 *
 * After decoding, @c packed points at @c count packed 8-byte wire values
 * inside the decoded buffer and @c unpacked is NULL. To encode, set either
 * @c packed (e.g. straight from a decoded message) or @c unpacked, not both.
 * Read elements with dynmem_proto_ranges_get(), never by casting @c packed.
 */
struct dynmem_proto_ranges {
    const unsigned char *packed;               /**< count * 8 wire bytes, or NULL */
    const struct dynmem_proto_range *unpacked; /**< count ranges, or NULL */
    uint32_t count;                            /**< number of ranges */
};

/** Body of DYNMEM_PROTO_ERROR: the layout is undefined, so the bytes are kept. */
struct dynmem_proto_error_body {
    const unsigned char *payload; /**< bytes after the header (view), or NULL */
    uint32_t payload_size;        /**< number of payload bytes */
};

/** Body of DYNMEM_PROTO_VERSION_REQUEST. */
struct dynmem_proto_version_request {
    uint32_t version;     /**< proposed version, e.g. DYNMEM_PROTO_VERSION_WIN10 */
    bool is_last_attempt; /**< the guest will not propose another version */
};

/** Body of DYNMEM_PROTO_VERSION_RESPONSE. */
struct dynmem_proto_version_response {
    bool is_accepted; /**< the host accepts the version last proposed */
};

/** Body of DYNMEM_PROTO_CAPABILITIES_REPORT. */
struct dynmem_proto_caps_report {
    bool balloon;              /**< DYNMEM_PROTO_CAP_BALLOON */
    bool hot_add;              /**< DYNMEM_PROTO_CAP_HOT_ADD */
    bool hot_remove;           /**< DYNMEM_PROTO_CAP_HOT_REMOVE */
    uint8_t hot_add_alignment; /**< 0..15: hot-add alignment of 2^n MiB */
    uint64_t min_page_count;   /**< minimum page count (Linux sends 0) */
    uint64_t max_page_number;  /**< maximum page number (Linux sends all ones) */
};

/** Body of DYNMEM_PROTO_CAPABILITIES_RESPONSE. */
struct dynmem_proto_caps_response {
    bool is_accepted;               /**< DYNMEM_PROTO_CAPS_ACCEPTED */
    bool hot_remove;                /**< DYNMEM_PROTO_CAPS_HOT_REMOVE */
    bool suppress_pressure_reports; /**< DYNMEM_PROTO_CAPS_SUPPRESS_PRESSURE_REPORTS */
};

/** Body of DYNMEM_PROTO_STATUS_REPORT; all figures in 4 KiB pages. */
struct dynmem_proto_status_report {
    uint64_t num_avail;        /**< available memory */
    uint64_t num_committed;    /**< committed memory (what hosts balance on) */
    uint64_t page_file_size;   /**< total page-file size */
    uint64_t zero_free;        /**< zeroed plus free pages */
    uint32_t page_file_writes; /**< page-file writes */
    uint32_t io_diff;          /**< cache page faults minus page reads */
};

/** Body of DYNMEM_PROTO_BALLOON_REQUEST. */
struct dynmem_proto_balloon_request {
    uint32_t num_pages; /**< pages the guest should give up */
};

/** Body of DYNMEM_PROTO_BALLOON_RESPONSE. */
struct dynmem_proto_balloon_response {
    bool more_pages;                   /**< another response follows */
    struct dynmem_proto_ranges ranges; /**< pages the guest gave up */
};

/** Body of DYNMEM_PROTO_UNBALLOON_REQUEST. */
struct dynmem_proto_unballoon_request {
    bool more_pages;                   /**< another request follows */
    struct dynmem_proto_ranges ranges; /**< pages the host gives back */
};

/** Body of DYNMEM_PROTO_HOT_ADD_REQUEST. */
struct dynmem_proto_hot_add_request {
    struct dynmem_proto_range range;  /**< pages to add */
    bool has_region;                  /**< the 24-byte form with a region */
    struct dynmem_proto_range region; /**< region to add first (if has_region) */
};

/** Body of DYNMEM_PROTO_HOT_ADD_RESPONSE. */
struct dynmem_proto_hot_add_response {
    uint32_t page_count; /**< pages the guest made usable */
    uint32_t result;     /**< 1 success, 0 failure (kept as received) */
};

/** Body of DYNMEM_PROTO_INFO_MESSAGE: its first (usually only) record. */
struct dynmem_proto_info_message {
    uint32_t info_size;           /**< info_size field as received; ignored on encode */
    uint32_t info_type;           /**< record type, e.g. DYNMEM_PROTO_INFO_MAX_PAGE_COUNT */
    uint32_t data_size;           /**< record data bytes; 8 for the max page count */
    uint64_t max_page_count;      /**< record data for DYNMEM_PROTO_INFO_MAX_PAGE_COUNT */
    const unsigned char *data;    /**< record data (view); used on encode for other types */
};

/** Body of DYNMEM_PROTO_HOT_REMOVE_REQUEST. */
struct dynmem_proto_hot_remove_request {
    uint32_t virtual_node; /**< virtual NUMA node */
    uint32_t page_count;   /**< pages to remove */
    uint32_t qos_flags;    /**< DYNMEM_PROTO_REMOVE_QOS_* */
};

/** Body of DYNMEM_PROTO_HOT_REMOVE_RESPONSE. */
struct dynmem_proto_hot_remove_response {
    uint32_t result;                   /**< result code as received */
    bool more_pages;                   /**< another response follows */
    struct dynmem_proto_ranges ranges; /**< pages removed */
};

/**
 * Per-type message bodies; padded to 64 bytes so that bodies can grow
 * without moving anything (see the file comment).
 */
union dynmem_proto_body {
    struct dynmem_proto_error_body error;                     /**< type 0 */
    struct dynmem_proto_version_request version_request;      /**< type 1 */
    struct dynmem_proto_version_response version_response;    /**< type 2 */
    struct dynmem_proto_caps_report caps_report;              /**< type 3 */
    struct dynmem_proto_caps_response caps_response;          /**< type 4 */
    struct dynmem_proto_status_report status_report;          /**< type 5 */
    struct dynmem_proto_balloon_request balloon_request;      /**< type 6 */
    struct dynmem_proto_balloon_response balloon_response;    /**< type 7 */
    struct dynmem_proto_unballoon_request unballoon_request;  /**< type 8 */
    struct dynmem_proto_hot_add_request hot_add_request;      /**< type 10 */
    struct dynmem_proto_hot_add_response hot_add_response;    /**< type 11 */
    struct dynmem_proto_info_message info_message;            /**< type 12 */
    struct dynmem_proto_hot_remove_request hot_remove_request;   /**< type 13 */
    struct dynmem_proto_hot_remove_response hot_remove_response; /**< type 14 */
    uint64_t reserved_[8]; /**< room for growth; always zero */
};

/**
 * One message, decoded or to be encoded. Size-prefixed: see the file comment.
 * Only the body member named by @c type is meaningful; an unballoon
 * response has no body at all.
 */
struct dynmem_proto_msg {
    /** sizeof(struct dynmem_proto_msg) as compiled by the caller. */
    uint32_t size;
    /** DYNMEM_PROTO_FLAG_* set by the decoder; ignored by the encoder. */
    uint32_t flags;
    /** enum dynmem_proto_type. */
    uint16_t type;
    /** Total length on the wire, set by the decoder; ignored by the encoder. */
    uint16_t length;
    /** Transaction id of the header. */
    uint32_t trans_id;
    /** The body named by @c type. */
    union dynmem_proto_body body;
};

/** Initializer for a struct dynmem_proto_msg: size set, everything else zero. */
#define DYNMEM_PROTO_MSG_INIT { (uint32_t)sizeof(struct dynmem_proto_msg), 0, 0, 0, 0, { { 0, 0 } } }

/**
 * Zero a message and set its size prefix (for callers that cannot use
 * DYNMEM_PROTO_MSG_INIT, such as language bindings).
 * @param msg the message to initialise
 * @param size sizeof(struct dynmem_proto_msg) as compiled by the caller
 * @return 0; DYNMEM_ERR_INVALID_ARGUMENT if @p msg is NULL;
 *         DYNMEM_ERR_STRUCT_SIZE if @p size is smaller than any version of
 *         the struct or absurdly large (then nothing is written)
 */
DYNMEM_API int dynmem_proto_msg_init(struct dynmem_proto_msg *msg, size_t size);

/**
 * Decode one message from the start of a buffer.
 *
 * With @p length NULL the buffer must hold exactly one message (one VMBus
 * packet payload). With @p length non-NULL the buffer may continue with
 * further messages (a byte stream): on success *length is the number of
 * bytes this message used; on DYNMEM_ERR_PROTO_TRUNCATED it is the total
 * number of bytes needed before the call can succeed (8 while the header is
 * incomplete, else the header's size).
 *
 * Range and payload views in @p msg point into @p buf.
 *
 * @param msg receives the message; its @c size must be set
 *        (DYNMEM_PROTO_MSG_INIT). Written only on success.
 * @param buf the bytes received; may be NULL when @p len is 0
 * @param len number of bytes in @p buf
 * @param version the protocol version negotiated on the channel, or 0 to
 *        accept every message type of every known version
 * @param length NULL, or receives the message length (see above)
 * @return 0 on success, or:
 *  - DYNMEM_ERR_INVALID_ARGUMENT: @p msg NULL, @p buf NULL with @p len > 0,
 *    or @p version not 0 and not one of the three known versions;
 *  - DYNMEM_ERR_STRUCT_SIZE: @p msg->size smaller than any version of the
 *    struct or larger than 4096;
 *  - DYNMEM_ERR_PROTO_TRUNCATED: fewer bytes than the header or than the
 *    header's size;
 *  - DYNMEM_ERR_PROTO_HEADER_SIZE: the header's size is below 8;
 *  - DYNMEM_ERR_PROTO_TOO_LARGE: the header's size is above 4096;
 *  - DYNMEM_ERR_PROTO_TRAILING_BYTES: @p length is NULL and the buffer is
 *    longer than the header's size;
 *  - DYNMEM_ERR_PROTO_UNKNOWN_TYPE: a type above 14;
 *  - DYNMEM_ERR_PROTO_VERSION: a type that @p version does not have;
 *  - DYNMEM_ERR_PROTO_BAD_SIZE: a size that is wrong for the type;
 *  - DYNMEM_ERR_PROTO_TOO_MANY_RANGES: a range count above the maximum;
 *  - DYNMEM_ERR_PROTO_RANGE_COUNT: a range count disagreeing with the size;
 *  - DYNMEM_ERR_PROTO_BAD_INFO: an info record that does not fit or whose
 *    data size is wrong for its type.
 */
DYNMEM_API int dynmem_proto_decode(struct dynmem_proto_msg *msg, const void *buf, size_t len,
                                   uint32_t version, size_t *length);

/**
 * Encode one message into a caller buffer. Reserved bits are written as zero;
 * @c flags and @c length of @p msg are ignored.
 * @param buf where to write; may be NULL when @p cap is 0
 * @param cap bytes available in @p buf; DYNMEM_PROTO_MSG_SIZE_MAX always suffices
 * @param msg the message; its @c size must be set
 * @param version the negotiated protocol version, or 0 for any
 * @return the number of bytes written (8..4096), or:
 *  - DYNMEM_ERR_BUFFER_TOO_SMALL: @p cap is below the encoded size
 *    (dynmem_proto_encoded_size() tells it); nothing is written;
 *  - DYNMEM_ERR_INVALID_ARGUMENT: @p msg NULL, @p buf NULL with @p cap > 0,
 *    @p version not 0 and not one of the three known versions, a range
 *    list with both or neither of @c packed and @c unpacked while
 *    count > 0, or an error payload or info record data NULL with a
 *    non-zero size;
 *  - DYNMEM_ERR_STRUCT_SIZE: a bad size prefix;
 *  - DYNMEM_ERR_STRUCT_RESERVED: a non-zero byte past the library's sizeof,
 *    or in the body past the fields of this message type (see the file
 *    comment);
 *  - DYNMEM_ERR_PROTO_UNKNOWN_TYPE, DYNMEM_ERR_PROTO_VERSION: as for decoding;
 *  - DYNMEM_ERR_PROTO_TOO_MANY_RANGES: more ranges than the type holds;
 *  - DYNMEM_ERR_PROTO_TOO_LARGE: payload or info data beyond 4096 bytes;
 *  - DYNMEM_ERR_PROTO_BAD_RANGE: a range whose start or count does not fit;
 *  - DYNMEM_ERR_PROTO_BAD_FIELD: another field too wide for the wire
 *    (hot-add alignment above 15, qos_flags outside the mask, a max page
 *    count record whose data size is not 8).
 */
DYNMEM_API ptrdiff_t dynmem_proto_encode(void *buf, size_t cap, const struct dynmem_proto_msg *msg,
                                         uint32_t version);

/**
 * The exact number of bytes dynmem_proto_encode() would write.
 * @param msg the message; its @c size must be set
 * @param version the negotiated protocol version, or 0 for any
 * @return the size (8..4096) or the error dynmem_proto_encode() would return
 *         (never DYNMEM_ERR_BUFFER_TOO_SMALL)
 */
DYNMEM_API ptrdiff_t dynmem_proto_encoded_size(const struct dynmem_proto_msg *msg, uint32_t version);

/**
 * The largest message the loaded library can encode or decode.
 * @return DYNMEM_PROTO_MSG_SIZE_MAX as the loaded library defines it
 */
DYNMEM_API size_t dynmem_proto_encoded_size_max(void);

/**
 * The hot-add alignment a guest announces, in bytes. The guest sends it as
 * an exponent (dynmem_proto_caps_report.hot_add_alignment, and the bits
 * DYNMEM_PROTO_CAP_ALIGNMENT_MASK of the host session's CAPS event): n
 * means 2^n MiB. The balancer takes bytes
 * (dynmem_vm_config.hot_add_alignment_bytes, 2 MiB to 1 GiB: exponents 1
 * to 10). The one conversion between the two; thread-safe (it reads and
 * writes nothing else).
 * @param exponent 0 (1 MiB) to DYNMEM_PROTO_ALIGNMENT_MAX (32 GiB)
 * @param bytes receives 2^exponent MiB (untouched on error)
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT (@p bytes NULL) or
 *         DYNMEM_ERR_OUT_OF_RANGE (@p exponent above DYNMEM_PROTO_ALIGNMENT_MAX:
 *         it does not fit the protocol's 4 bits)
 */
DYNMEM_API int dynmem_proto_alignment_bytes(unsigned exponent, uint64_t *bytes);

/**
 * The inverse of dynmem_proto_alignment_bytes(): the exponent a guest
 * announces for an alignment of @p bytes (a guest engine's
 * DYNMEM_SESSION_GUEST_PARAM_HOT_ADD_ALIGNMENT). Thread-safe.
 * @param bytes 2^n MiB, n from 0 to DYNMEM_PROTO_ALIGNMENT_MAX
 * @param exponent receives n (untouched on error)
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT (@p exponent NULL) or
 *         DYNMEM_ERR_OUT_OF_RANGE (@p bytes is not 2^n MiB with n in 0..15)
 */
DYNMEM_API int dynmem_proto_alignment_exponent(uint64_t bytes, unsigned *exponent);

/**
 * Pack a page range into its 64-bit wire form (start in bits 0..39, count in
 * bits 40..63).
 * @param out receives the packed value (untouched on error)
 * @param start_page first page; at most DYNMEM_PROTO_RANGE_START_MAX
 * @param page_count number of pages; at most DYNMEM_PROTO_RANGE_COUNT_MAX
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT (@p out NULL) or
 *         DYNMEM_ERR_PROTO_BAD_RANGE (a value does not fit)
 */
DYNMEM_API int dynmem_proto_range_pack(uint64_t *out, uint64_t start_page, uint64_t page_count);

/**
 * Unpack a 64-bit wire page range. Every value is a valid range.
 * @param out receives the range; ignored if NULL
 * @param packed the wire value
 */
DYNMEM_API void dynmem_proto_range_unpack(struct dynmem_proto_range *out, uint64_t packed);

/**
 * Read one element of a range list.
 * @param out receives the range (untouched on error)
 * @param ranges the list, from a decoded message or built by the caller
 * @param index 0-based element
 * @return 0; DYNMEM_ERR_INVALID_ARGUMENT for NULL pointers or a list with
 *         no source; DYNMEM_ERR_OUT_OF_RANGE if @p index >= count
 */
DYNMEM_API int dynmem_proto_ranges_get(struct dynmem_proto_range *out,
                                       const struct dynmem_proto_ranges *ranges, uint32_t index);

/**
 * Copy consecutive elements of a range list into caller storage.
 * @param out array of at least @p cap ranges; may be NULL when @p cap is 0
 * @param cap capacity of @p out
 * @param ranges the list
 * @param first index of the first element to copy
 * @return the number of ranges copied (min(cap, count - first)), or
 *         DYNMEM_ERR_INVALID_ARGUMENT (@p ranges NULL, @p out NULL with
 *         @p cap > 0, or a list with no source) or DYNMEM_ERR_OUT_OF_RANGE
 *         (@p first > count)
 */
DYNMEM_API ptrdiff_t dynmem_proto_ranges_copy(struct dynmem_proto_range *out, size_t cap,
                                              const struct dynmem_proto_ranges *ranges,
                                              uint32_t first);

/**
 * The range list of a message, for code that treats all ranged types alike.
 * @param msg a message
 * @return the list of a balloon response, unballoon request or hot-remove
 *         response; NULL for other types or a NULL @p msg
 */
DYNMEM_API const struct dynmem_proto_ranges *dynmem_proto_msg_ranges(const struct dynmem_proto_msg *msg);

/**
 * Name a message type as enum dynmem_proto_type spells it, without the
 * DYNMEM_PROTO_ prefix (e.g. "HOT_ADD_REQUEST" for type 10).
 *
 * Like every function of libdynmem that names a value, it never returns
 * NULL: a value this library version does not know is named "unknown".
 * @param type a wire type value (any value is accepted)
 * @return a static string such as "BALLOON_RESPONSE"; "unknown" for a value
 *         that is not a known type. Never NULL, never to be freed.
 */
DYNMEM_API const char *dynmem_proto_type_name(unsigned type);

/** @} */

DYNMEM_END_DECLS

#endif /* DYNMEM_PROTO_H */
