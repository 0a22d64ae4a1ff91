/**
 * @file balancer.h
 * @brief The host-wide memory balancer: targets down, facts up.
 *
 * One balancer per host. It knows every VM's configuration and what each
 * currently holds, turns guests' reports into demand (one pressure estimator
 * per VM, see pressure.h) and, on each tick, hands out per-VM actions
 * (unballoon, hot-add, balloon, hot-remove, page-in) with the reason behind
 * each. It never moves memory itself: a backend (a protocol session, a QMP or
 * xenstore daemon, a simulator) carries an action out and reports back what
 * really happened with dynmem_balancer_confirm().
 *
 * @par Accounting (the invariant)
 * For every VM the balancer keeps: @e assigned (host memory backing the VM,
 * confirmed), @e in-flight growth (unballoon/hot-add/page-in issued, not yet
 * confirmed), the guest-visible maximum (startup + hot-added - hot-removed),
 * the balloon (visible - assigned - paged) and the smart-paged gap. Memory
 * counts as used from the moment a growth action is issued and as free only
 * once the guest confirmed giving it up, so at every instant
 * sum(assigned + in-flight growth) + reserve <= host total
 * (dynmem_balancer_check() verifies it).
 *
 * @par Units
 * Bytes at this interface. Sizes in a VM configuration are whole 2 MiB units;
 * actions are 2 MiB multiples, hot-add amounts multiples of the VM's hot-add
 * alignment.
 *
 * @par Determinism
 * No clock, no I/O, no randomness: the same calls with the same times give the
 * same actions. After VMs are added, ticks do not allocate.
 *
 * @par Thread safety
 * A balancer is used by one thread at a time; distinct balancers are
 * independent. dynmem_vm_config_check(), dynmem_vm_config_explain(),
 * dynmem_host_config_check(), dynmem_config_check() and
 * dynmem_action_describe() are pure.
 */
#ifndef DYNMEM_BALANCER_H
#define DYNMEM_BALANCER_H

#include <stddef.h>
#include <stdint.h>

#include <dynmem/common.h>
#include <dynmem/pressure.h>

DYNMEM_BEGIN_DECLS

/**
 * @defgroup balancer Memory balancer
 * @{
 */

/** An opaque host-wide balancer. */
typedef struct dynmem_balancer dynmem_balancer;

/** The unit every configured size is a multiple of: 2 MiB. */
#define DYNMEM_SIZE_UNIT (UINT64_C(2) << 20)

/** Bits of dynmem_vm_config::flags. */
enum dynmem_vm_flag {
    /** Dynamic memory on: the balancer moves memory between minimum and
     *  maximum. Off: the VM is static (minimum = startup = maximum). */
    DYNMEM_VM_DYNAMIC = 1u << 0,
    /** The guest has a balloon driver. */
    DYNMEM_VM_CAN_BALLOON = 1u << 1,
    /** The guest accepts hot-added memory. */
    DYNMEM_VM_CAN_HOT_ADD = 1u << 2,
    /** The guest can hot-remove memory (its visible maximum really shrinks). */
    DYNMEM_VM_CAN_HOT_REMOVE = 1u << 3
};

/**
 * A VM's memory configuration. Size-prefixed: initialise with
 * DYNMEM_VM_CONFIG_INIT (which holds the defaults: buffer 20 %, weight 5000,
 * dynamic with balloon and hot-add, alignment 2 MiB).
 */
struct dynmem_vm_config {
    /** sizeof(struct dynmem_vm_config) as compiled by the caller. */
    uint32_t size;
    /** Bitwise OR of enum dynmem_vm_flag. */
    uint32_t flags;
    /** Memory the VM boots with; it starts only if this much is free. */
    uint64_t startup_bytes;
    /** Floor while running: 0 < minimum <= startup. */
    uint64_t minimum_bytes;
    /** Ceiling: maximum >= startup. */
    uint64_t maximum_bytes;
    /** Extra memory above demand, percent of demand, 5..2000. */
    uint32_t buffer_percent;
    /** Priority under scarcity, 0..10000 (higher keeps more). */
    uint32_t weight;
    /** Hot-add granularity: a power of two multiple of 2 MiB, up to 1 GiB. */
    uint64_t hot_add_alignment_bytes;
    /** How long a surplus must last before lazy reclaim takes it from this
     *  VM, in ms, up to 86400000 (a day); 0 = the balancer's
     *  DYNMEM_BALANCER_PARAM_CALM_PERIOD_MS. Lets a VM that must not be
     *  reclaimed quickly (a database's cache) wait longer, or a scratch VM
     *  less, than the host's calm period. */
    uint64_t calm_period_ms;
    /** Must be zero. */
    uint64_t reserved[3];
};

/** Initializer for a struct dynmem_vm_config with the defaults and no sizes. */
#define DYNMEM_VM_CONFIG_INIT { sizeof(struct dynmem_vm_config), \
    DYNMEM_VM_DYNAMIC | DYNMEM_VM_CAN_BALLOON | DYNMEM_VM_CAN_HOT_ADD, \
    0, 0, 0, 20, 5000, DYNMEM_SIZE_UNIT, 0, {0, 0, 0} }

/**
 * Set a VM configuration to the defaults of DYNMEM_VM_CONFIG_INIT, for
 * callers that cannot use the macro (language bindings, FFI): @c size set,
 * buffer 20 %, weight 5000, dynamic with balloon and hot-add, alignment
 * 2 MiB, no sizes, everything else zero.
 * @param config the configuration to initialise
 * @param size sizeof(struct dynmem_vm_config) as compiled by the caller
 *        (bytes beyond the fields this library knows are zeroed)
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT (@p config NULL) or
 *         DYNMEM_ERR_STRUCT_SIZE (@p size smaller than the 1.0 struct or
 *         absurd); @p config is unchanged on error
 */
DYNMEM_API int dynmem_vm_config_init(struct dynmem_vm_config *config, size_t size);

/**
 * Check a VM configuration without a balancer (B1).
 * @param config the configuration
 * @return 0 or the error naming the first bad field:
 *         DYNMEM_ERR_CONFIG_STARTUP, DYNMEM_ERR_CONFIG_MINIMUM,
 *         DYNMEM_ERR_CONFIG_MAXIMUM, DYNMEM_ERR_CONFIG_BUFFER,
 *         DYNMEM_ERR_CONFIG_WEIGHT, DYNMEM_ERR_CONFIG_ALIGNMENT,
 *         DYNMEM_ERR_CONFIG_CALM_PERIOD, DYNMEM_ERR_CONFIG_FLAGS (unknown
 *         flag, or a static VM whose minimum, startup and maximum differ);
 *         also DYNMEM_ERR_INVALID_ARGUMENT,
 *         DYNMEM_ERR_STRUCT_SIZE, DYNMEM_ERR_STRUCT_RESERVED
 */
DYNMEM_API int dynmem_vm_config_check(const struct dynmem_vm_config *config);

/**
 * Check a VM configuration as dynmem_vm_config_check() does, and say what is
 * wrong in one line of English that names the field and its values, e.g.
 * "minimum 512 MiB above startup 256 MiB" (sizes in MiB when whole MiB).
 * The one check behind every front end's settings (B1).
 * @param config the configuration
 * @param[out] msg receives the message, "" when the configuration is valid;
 *        cut to fit and always NUL-terminated when msg_len > 0; may be NULL
 *        when msg_len is 0
 * @param msg_len size of msg in bytes
 * @return the same value as dynmem_vm_config_check(); also
 *         DYNMEM_ERR_INVALID_ARGUMENT when msg is NULL and msg_len is not 0
 */
DYNMEM_API int dynmem_vm_config_explain(const struct dynmem_vm_config *config, char *msg,
                                        size_t msg_len);

/**
 * A host's settings, as dynmem_host_config_check() checks them: the values a
 * front end will give DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES and
 * DYNMEM_BALANCER_PARAM_HOST_RESERVE_BYTES. Size-prefixed: initialise with
 * DYNMEM_HOST_CONFIG_INIT.
 */
struct dynmem_host_config {
    /** sizeof(struct dynmem_host_config) as compiled by the caller. */
    uint32_t size;
    /** Must be zero. */
    uint32_t reserved0;
    /** Host memory the VMs share, reserve included: a non-zero multiple of
     *  2 MiB. */
    uint64_t total_bytes;
    /** Memory kept for the host: a multiple of 2 MiB below total_bytes, or
     *  -1 for the balancer's default (which must be below it too). */
    int64_t reserve_bytes;
    /** Must be zero. */
    uint64_t reserved[4];
};

/** Initializer for a struct dynmem_host_config: no memory, default reserve. */
#define DYNMEM_HOST_CONFIG_INIT { sizeof(struct dynmem_host_config), 0, 0, -1, {0, 0, 0, 0} }

/**
 * Check a host's settings (B11), with a message as dynmem_vm_config_explain()
 * writes, e.g. "reserve 8192 MiB at or above host memory 8192 MiB". Pure.
 * @param host the settings
 * @param[out] msg receives the message, "" when valid (see
 *        dynmem_vm_config_explain())
 * @param msg_len size of msg in bytes
 * @return 0, DYNMEM_ERR_CONFIG_HOST_MEMORY, DYNMEM_ERR_CONFIG_RESERVE (not a
 *         2 MiB multiple, below -1, or, the default included, not below
 *         the host memory), DYNMEM_ERR_INVALID_ARGUMENT,
 *         DYNMEM_ERR_STRUCT_SIZE or DYNMEM_ERR_STRUCT_RESERVED
 */
DYNMEM_API int dynmem_host_config_check(const struct dynmem_host_config *host, char *msg,
                                        size_t msg_len);

/** One VM of a set checked by dynmem_config_check(). Size-prefixed:
 *  initialise with DYNMEM_CONFIG_VM_INIT. */
struct dynmem_config_vm {
    /** sizeof(struct dynmem_config_vm) as compiled by the caller. */
    uint32_t size;
    /** Must be zero. */
    uint32_t reserved0;
    /** The VM's name, unique in the set; NULL or "" for none (messages then
     *  say "VM n", its position from 1). */
    const char *name;
    /** What the front end calls the field that reaches the VM, for messages
     *  (e.g. "qmp", "domid"); NULL for "endpoint". */
    const char *endpoint_field;
    /** How the front end reaches the VM (a socket path, a domain id as
     *  text), unique in the set; NULL for none. */
    const char *endpoint;
    /** Its configuration, or NULL when not known yet (then only the name
     *  and the endpoint are checked). */
    const struct dynmem_vm_config *config;
    /** Must be zero. */
    uint64_t reserved[2];
};

/** Initializer for a struct dynmem_config_vm with nothing set. */
#define DYNMEM_CONFIG_VM_INIT { sizeof(struct dynmem_config_vm), 0, NULL, NULL, NULL, NULL, {0, 0} }

/**
 * Check a host and its VMs together, as a front end's configuration (a
 * daemon's options, a scenario file): the host as dynmem_host_config_check(),
 * each VM's configuration as dynmem_vm_config_explain() (its message
 * prefixed with "vm 'NAME': "), every name and every endpoint used once.
 * Stops at the first problem. Pure; n_vms^2 string comparisons, meant for
 * configurations, not for a balancer's fleet each tick.
 * @param host the host's settings, or NULL to check only the VMs
 * @param vms the VMs, in the order the front end lists them
 * @param n_vms how many (vms may be NULL when 0)
 * @param[out] bad_vm if not NULL, on error: the position of the VM the
 *        problem is about, or n_vms when it is about the host
 * @param[out] msg receives the message, "" when valid (see
 *        dynmem_vm_config_explain())
 * @param msg_len size of msg in bytes
 * @return 0, any error of dynmem_host_config_check() or
 *         dynmem_vm_config_check(), DYNMEM_ERR_CONFIG_DUPLICATE (a name or an
 *         endpoint used twice), DYNMEM_ERR_INVALID_ARGUMENT,
 *         DYNMEM_ERR_STRUCT_SIZE or DYNMEM_ERR_STRUCT_RESERVED (of an entry)
 */
DYNMEM_API int dynmem_config_check(const struct dynmem_host_config *host,
                                   const struct dynmem_config_vm *vms, size_t n_vms,
                                   size_t *bad_vm, char *msg, size_t msg_len);

/** Balancing policies (DYNMEM_BALANCER_PARAM_POLICY). */
enum dynmem_policy {
    /** Hyper-V semantics plus weighted water-filling, grow fast / shrink
     *  slow, and trend and distress awareness. The default. */
    DYNMEM_POLICY_DYNMEM = 0,
    /** The documented Hyper-V rules only: demand + buffer targets, buffers
     *  dropped first under scarcity, then strict weight order. */
    DYNMEM_POLICY_HYPERV = 1,
    /** No balancing: every VM keeps its startup memory. */
    DYNMEM_POLICY_STATIC = 2,
    /** Xen's squeezed: every VM gets the same fraction of its range between
     *  minimum and maximum, whatever its demand, keeping 9 MiB free on top of
     *  the reserve; decides every second. For comparison (docs/policies.md). */
    DYNMEM_POLICY_SQUEEZED = 3,
    /** oVirt MoM with VDSM's balloon policy: while host free memory is under
     *  20 % of the host, VMs shrink by up to 5 % per cycle toward their
     *  demand plus a free share scaled by host pressure; otherwise they grow
     *  by 5 % per cycle; changes under 0.25 % are skipped; 15 s cycle. For
     *  comparison. */
    DYNMEM_POLICY_MOM = 4,
    /** VMware ESX: min-funding revocation with the idle memory tax (rate
     *  75 %): memory is taken from the VM with the fewest shares (weight) per
     *  page, idle pages costing four times active ones, and only when the
     *  VMs' requests exceed free memory; 15 s cycle. For comparison. */
    DYNMEM_POLICY_ESX = 5,
    /** Proxmox VE auto-ballooning: keeps the host at 80 % used, splits the
     *  memory above the VMs' minimums by shares (weight), moves each VM by at
     *  most 100 MiB per 10 s cycle, ignores changes under 10 MiB. For
     *  comparison. */
    DYNMEM_POLICY_PROXMOX = 6
};

/** Host-wide settings (dynmem_balancer_set_param()). */
enum dynmem_balancer_param {
    /** Host memory in bytes; must be set before VMs start. */
    DYNMEM_BALANCER_PARAM_HOST_TOTAL_BYTES = 1,
    /** Memory kept for the host itself, bytes (2 MiB multiple), or -1 for the
     *  default: 899 MiB + 1 % of memory above 28 GiB, rounded up to 2 MiB
     *  (VMware ESX's minFree). Default -1. */
    DYNMEM_BALANCER_PARAM_HOST_RESERVE_BYTES = 2,
    /** enum dynmem_policy. Default DYNMEM_POLICY_DYNMEM. */
    DYNMEM_BALANCER_PARAM_POLICY = 3,
    /** How long a VM's surplus must last before lazy reclaim, ms. Default
     *  60000. The dynmem and hyperv policies only: the comparison policies
     *  shrink under their own rules. */
    DYNMEM_BALANCER_PARAM_CALM_PERIOD_MS = 4,
    /** No progress on an action for this long flags the VM stuck, ms. Default 5000. */
    DYNMEM_BALANCER_PARAM_STUCK_TIMEOUT_MS = 5,
    /** Differences smaller than this are left alone, bytes (2 MiB multiple).
     *  Default 32 MiB. The dynmem and hyperv policies only: the comparison
     *  policies apply their own deadbands. Under scarcity the dynmem policy
     *  also keeps this much of each buffer (its whole buffer when smaller)
     *  for as long as the demands plus those headrooms fit, and in a cut of
     *  demand spares the highest weights whose share would be under it. */
    DYNMEM_BALANCER_PARAM_DEADBAND_BYTES = 6,
    /** Most memory one VM may gain per tick, bytes, 0 = no cap. Default 0. */
    DYNMEM_BALANCER_PARAM_MAX_GROW_PER_TICK_BYTES = 7,
    /** Most memory one VM may lose per tick, bytes, 0 = no cap. Default 0. */
    DYNMEM_BALANCER_PARAM_MAX_SHRINK_PER_TICK_BYTES = 8,
    /** Age after which a VM's reports are stale and it is held where it is, ms.
     *  Default 5000. */
    DYNMEM_BALANCER_PARAM_STALE_MS = 9,
    /** The tick period the caller intends, ms (used for rate-based rules).
     *  Default 1000. */
    DYNMEM_BALANCER_PARAM_TICK_MS = 10
};

/**
 * Create a balancer with default settings and no VMs.
 * @param[out] out the new balancer
 * @param alloc allocator hook, or NULL for libc
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT (@p out NULL), DYNMEM_ERR_NO_MEMORY
 *         or an allocator validation error (DYNMEM_ERR_STRUCT_SIZE,
 *         DYNMEM_ERR_STRUCT_RESERVED, DYNMEM_ERR_BAD_ALLOCATOR)
 */
DYNMEM_API int dynmem_balancer_new(dynmem_balancer **out, const struct dynmem_allocator *alloc);

/**
 * Destroy a balancer and everything it holds.
 * @param b the balancer; NULL is a no-op
 */
DYNMEM_API void dynmem_balancer_free(dynmem_balancer *b);

/**
 * Valid range of a setting.
 * @param param the setting
 * @param[out] min smallest accepted value
 * @param[out] max largest accepted value
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT or DYNMEM_ERR_NOT_FOUND
 */
DYNMEM_API int dynmem_balancer_param_bounds(enum dynmem_balancer_param param,
                                            int64_t *min, int64_t *max);

/**
 * Change a host-wide setting.
 * @param b the balancer
 * @param param the setting
 * @param value the new value
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT, DYNMEM_ERR_NOT_FOUND,
 *         DYNMEM_ERR_OUT_OF_RANGE (outside its bounds or not a 2 MiB
 *         multiple) or DYNMEM_ERR_BAD_STATE (host total or reserve changed so
 *         that running VMs no longer fit); unchanged on error
 */
DYNMEM_API int dynmem_balancer_set_param(dynmem_balancer *b, enum dynmem_balancer_param param,
                                         int64_t value);

/**
 * Read a host-wide setting (the reserve in effect for
 * DYNMEM_BALANCER_PARAM_HOST_RESERVE_BYTES, even when it is the default).
 * @param b the balancer
 * @param param the setting
 * @param[out] value its value
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT or DYNMEM_ERR_NOT_FOUND
 */
DYNMEM_API int dynmem_balancer_get_param(const dynmem_balancer *b,
                                         enum dynmem_balancer_param param, int64_t *value);

/**
 * Register a VM (it is off until dynmem_balancer_vm_start()).
 * @param b the balancer
 * @param config its configuration (checked as dynmem_vm_config_check())
 * @param[out] vm_id the VM's id, valid until dynmem_balancer_vm_remove()
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT, any error of
 *         dynmem_vm_config_check() (a DYNMEM_ERR_CONFIG_* code,
 *         DYNMEM_ERR_STRUCT_SIZE, DYNMEM_ERR_STRUCT_RESERVED) or
 *         DYNMEM_ERR_NO_MEMORY; unchanged on error
 */
DYNMEM_API int dynmem_balancer_vm_add(dynmem_balancer *b, const struct dynmem_vm_config *config,
                                      uint64_t *vm_id);

/**
 * Forget a VM that is off.
 * @param b the balancer
 * @param vm_id the VM
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT, DYNMEM_ERR_NOT_FOUND or
 *         DYNMEM_ERR_BAD_STATE (still running)
 */
DYNMEM_API int dynmem_balancer_vm_remove(dynmem_balancer *b, uint64_t vm_id);

/**
 * Start a VM: admission control (B2). It starts only if its startup memory is
 * free after the host reserve and the memory every other VM holds or has in
 * flight; then it holds startup memory at once.
 * @param b the balancer
 * @param vm_id the VM (off)
 * @param now_ms current time
 * @param[out] missing_bytes if not NULL: on DYNMEM_ERR_ADMISSION, how much
 *        more free memory the start needs; 0 otherwise (untouched when
 *        @p b is NULL)
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT, DYNMEM_ERR_NOT_FOUND,
 *         DYNMEM_ERR_BAD_STATE (running, or no host total set) or
 *         DYNMEM_ERR_ADMISSION
 */
DYNMEM_API int dynmem_balancer_vm_start(dynmem_balancer *b, uint64_t vm_id, uint64_t now_ms,
                                        uint64_t *missing_bytes);

/**
 * Restart a running VM (a guest reboot or reset), with smart paging (B15):
 * the VM comes back at its startup memory; if the host cannot back all of it
 * but can back at least the minimum, the gap is marked smart-paged (backed by
 * the VMM's paging file) and drained first by later ticks.
 * @param b the balancer
 * @param vm_id the VM (running)
 * @param now_ms current time
 * @param[out] paged_bytes if not NULL, the smart-paged gap (0 if none;
 *        untouched when @p b is NULL)
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT, DYNMEM_ERR_NOT_FOUND,
 *         DYNMEM_ERR_BAD_STATE (off, or actions in flight the backend has
 *         not settled) or DYNMEM_ERR_ADMISSION (not even the minimum can be
 *         backed; the VM is then off)
 */
DYNMEM_API int dynmem_balancer_vm_restart(dynmem_balancer *b, uint64_t vm_id, uint64_t now_ms,
                                          uint64_t *paged_bytes);

/**
 * Stop a VM: everything it holds, in flight included, returns to the pool at
 * once (the VMM has torn the guest down). Pending actions are dropped.
 * @param b the balancer
 * @param vm_id the VM
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT, DYNMEM_ERR_NOT_FOUND or
 *         DYNMEM_ERR_BAD_STATE (already off)
 */
DYNMEM_API int dynmem_balancer_vm_stop(dynmem_balancer *b, uint64_t vm_id);

/**
 * Change a VM's configuration. While it runs only these changes are allowed:
 * lowering the minimum, raising the maximum, and any buffer, weight, ability
 * or alignment change; turning dynamic memory on or off, and any other change,
 * needs the VM off (B1).
 * @param b the balancer
 * @param vm_id the VM
 * @param config the new configuration
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT, DYNMEM_ERR_NOT_FOUND, any error of
 *         dynmem_vm_config_check() (a DYNMEM_ERR_CONFIG_* code,
 *         DYNMEM_ERR_STRUCT_SIZE, DYNMEM_ERR_STRUCT_RESERVED) or
 *         DYNMEM_ERR_BAD_STATE; unchanged on error
 */
DYNMEM_API int dynmem_balancer_vm_configure(dynmem_balancer *b, uint64_t vm_id,
                                            const struct dynmem_vm_config *config);

/**
 * Resize a running static VM (B10): the balancer issues the actions to reach
 * @p new_bytes, limited on the way up by free host memory and the guest's
 * ability to grow, and on the way down by what the guest reports as available.
 * @param b the balancer
 * @param vm_id the VM (running, dynamic memory off)
 * @param now_ms current time
 * @param new_bytes wanted size (2 MiB multiple)
 * @param[out] granted_bytes if not NULL, the size that will be reached
 * @return 0 when the whole change is under way, DYNMEM_ERR_PARTIAL when only
 *         part of it is (granted_bytes says how much),
 *         DYNMEM_ERR_INVALID_ARGUMENT, DYNMEM_ERR_NOT_FOUND,
 *         DYNMEM_ERR_OUT_OF_RANGE (not a 2 MiB multiple, or 0),
 *         DYNMEM_ERR_BAD_STATE (not running, dynamic, or an action in
 *         flight) or DYNMEM_ERR_PRESSURE_UNALIGNED (the VM holds memory
 *         that is not whole 2 MiB units, after an earlier change ended
 *         part way, and the size it can reach is not either); unchanged on
 *         error
 */
DYNMEM_API int dynmem_balancer_vm_resize(dynmem_balancer *b, uint64_t vm_id, uint64_t now_ms,
                                         uint64_t new_bytes, uint64_t *granted_bytes);

/**
 * Feed a guest report to the VM's pressure estimator.
 * @param b the balancer
 * @param vm_id the VM (running)
 * @param sample the report (see pressure.h for adapters from each backend)
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT, DYNMEM_ERR_NOT_FOUND,
 *         DYNMEM_ERR_BAD_STATE (off) or any other error of
 *         dynmem_pressure_add_sample(): DYNMEM_ERR_STRUCT_SIZE,
 *         DYNMEM_ERR_STRUCT_RESERVED, DYNMEM_ERR_PRESSURE_TIME_BACKWARDS,
 *         DYNMEM_ERR_OUT_OF_RANGE, DYNMEM_ERR_PRESSURE_INCONSISTENT or
 *         DYNMEM_ERR_NO_MEMORY
 */
DYNMEM_API int dynmem_balancer_vm_sample(dynmem_balancer *b, uint64_t vm_id,
                                         const struct dynmem_pressure_sample *sample);

/**
 * Set a VM's estimator setting other than the buffer and clamps, which follow
 * its configuration (e.g. the window or the stale time).
 * @param b the balancer
 * @param vm_id the VM
 * @param param DYNMEM_PRESSURE_PARAM_WINDOW_MS or DYNMEM_PRESSURE_PARAM_STALE_MS
 * @param value the value
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT (@p b NULL, or a setting that
 *         follows the configuration), DYNMEM_ERR_NOT_FOUND (unknown VM or
 *         unknown setting) or DYNMEM_ERR_OUT_OF_RANGE (the value outside
 *         dynmem_pressure_param_bounds())
 */
DYNMEM_API int dynmem_balancer_vm_set_pressure_param(dynmem_balancer *b, uint64_t vm_id,
                                                     enum dynmem_pressure_param param,
                                                     int64_t value);

/** Kinds of action. */
enum dynmem_action_kind {
    /** Give ballooned memory back to the guest. */
    DYNMEM_ACTION_UNBALLOON = 1,
    /** Hot-add new memory (bytes is a multiple of the hot-add alignment). */
    DYNMEM_ACTION_HOT_ADD = 2,
    /** Ask the guest to balloon memory out. */
    DYNMEM_ACTION_BALLOON = 3,
    /** Ask the guest to hot-remove memory. */
    DYNMEM_ACTION_HOT_REMOVE = 4,
    /** Back smart-paged guest memory with host memory (VMM-internal). */
    DYNMEM_ACTION_PAGE_IN = 5
};

/** Why an action was decided: the rule that fired. */
enum dynmem_reason {
    /** Demand plus buffer exceeds what the VM holds and memory is free
     *  (under a comparison policy: that policy's target does). */
    DYNMEM_REASON_GROW = 1,
    /** As GROW, but free memory (or the per-tick cap) limits the step. */
    DYNMEM_REASON_GROW_PARTIAL = 2,
    /** Another VM needs memory; this one holds more than its entitlement
     *  (weights decide the entitlement). */
    DYNMEM_REASON_SCARCITY = 3,
    /** The VM held more than its target for the calm period. */
    DYNMEM_REASON_LAZY_RECLAIM = 4,
    /** A runtime resize of a static VM. */
    DYNMEM_REASON_RESIZE = 5,
    /** Smart-paged memory is drained first, by ballooning. */
    DYNMEM_REASON_SMART_PAGING_DRAIN = 6,
    /** Smart-paged memory is backed again from free host memory. */
    DYNMEM_REASON_SMART_PAGING_BACK = 7,
    /** A comparison policy (squeezed, mom, esx, proxmox) shrinks the VM to
     *  its entitlement under that policy's own rule, at once. */
    DYNMEM_REASON_POLICY = 8,
    /** As SCARCITY, and the VM gives more than its share because a VM that
     *  weights ask first (lower or equal weight) gave less than asked and
     *  is held back (DYNMEM_VMSTATE_HELD_BACK). */
    DYNMEM_REASON_SCARCITY_NEXT = 9
};

/**
 * One decision for one VM, with the numbers behind it. Size-prefixed output:
 * the caller sets @c size (DYNMEM_ACTION_INIT), the library writes at most
 * that many bytes.
 */
struct dynmem_action {
    /** sizeof(struct dynmem_action) as compiled by the caller. */
    uint32_t size;
    /** enum dynmem_action_kind. */
    uint32_t kind;
    /** The VM to act on. */
    uint64_t vm_id;
    /** Identifies the action in dynmem_balancer_confirm(). */
    uint64_t action_id;
    /** How much memory to move. */
    uint64_t bytes;
    /** Memory the VM should hold (assigned) once the action is done. */
    uint64_t target_bytes;
    /** enum dynmem_reason. */
    uint32_t reason;
    /** enum dynmem_policy that decided. */
    uint32_t policy;
    /** The VM's demand when deciding. */
    uint64_t demand_bytes;
    /** What the VM held (assigned + in flight) when deciding. */
    uint64_t assigned_bytes;
    /** The VM's entitlement this tick (its target after scarcity rules). */
    uint64_t entitled_bytes;
    /** Free host memory when deciding. */
    uint64_t host_free_bytes;
    /** The VM's weight. */
    uint32_t weight;
    /** The VM's current pressure, percent. */
    uint32_t pressure;
    /** Written as zero. */
    uint64_t reserved[4];
};

/** Initializer for a struct dynmem_action to receive an action. */
#define DYNMEM_ACTION_INIT { sizeof(struct dynmem_action), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, {0, 0, 0, 0} }

/**
 * Decide. Queues at most one action per VM that has none outstanding; read
 * them with dynmem_balancer_next_action(). Also detects stuck VMs. Growth
 * that needs ballooned memory back and a hot-add is one unballoon now and
 * the hot-add as soon as the unballoon is confirmed complete (see
 * dynmem_balancer_confirm()): memory for both counts as used from the tick
 * on.
 * @param b the balancer
 * @param now_ms current time, not before the previous tick
 * @param[out] queued if not NULL, how many actions are queued now
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT, DYNMEM_ERR_BAD_STATE (no host
 *         total) or DYNMEM_ERR_PRESSURE_TIME_BACKWARDS
 */
DYNMEM_API int dynmem_balancer_tick(dynmem_balancer *b, uint64_t now_ms, size_t *queued);

/**
 * Take the next queued action (in the order decided: shrinks first, then
 * growth by weight).
 * @param b the balancer
 * @param[out] action receives the action; its size field must be set
 * @return 1 if an action was written, 0 if the queue is empty, or
 *         DYNMEM_ERR_INVALID_ARGUMENT / DYNMEM_ERR_STRUCT_SIZE
 */
DYNMEM_API int dynmem_balancer_next_action(dynmem_balancer *b, struct dynmem_action *action);

/** Bits for dynmem_balancer_confirm(). */
enum dynmem_confirm_flag {
    /** The action is over: whatever was not confirmed did not happen. */
    DYNMEM_CONFIRM_FINAL = 1u << 0,
    /** The action ended in failure (with FINAL). For growth the balancer
     *  stops hot-adding to this VM until its configuration changes or it
     *  hot-removes memory (which gives it room again). */
    DYNMEM_CONFIRM_FAILED = 1u << 1
};

/**
 * Report what a backend really did for an action (facts up). Call it with
 * each piece of progress (e.g. each balloon response), the last one with
 * DYNMEM_CONFIRM_FINAL. A FINAL confirmation of an unballoon that gave back
 * all it asked, where the tick's growth also needs a hot-add, queues that
 * hot-add at once: take it with dynmem_balancer_next_action() to carry out
 * both in the same tick (an unballoon short of its bytes gets no hot-add on
 * top of its balloon; the memory held for it returns to the pool). A FINAL
 * confirmation of a balloon or hot-remove short of its bytes holds the VM
 * back (DYNMEM_VMSTATE_HELD_BACK).
 *
 * Both ids are needed: @p vm_id is the index into the balancer's table
 * (its slot and the slot's generation), which finds the VM and its one
 * outstanding action in O(1) with no index of actions; action ids are
 * unique per balancer (a counter from 1, never reused), so an @p action_id
 * that is not the VM's outstanding action (a late or misrouted
 * confirmation) is detected and refused with DYNMEM_ERR_NOT_FOUND.
 * @param b the balancer
 * @param vm_id the VM
 * @param action_id the action, as taken from dynmem_balancer_next_action()
 * @param now_ms current time
 * @param bytes memory moved by this piece (2 MiB granularity not required:
 *        guests give 4 KiB pages; bytes are whole 4 KiB pages)
 * @param flags bitwise OR of enum dynmem_confirm_flag
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT (@p b NULL, or unknown flag bits),
 *         DYNMEM_ERR_NOT_FOUND (unknown VM or not its outstanding action) or
 *         DYNMEM_ERR_OUT_OF_RANGE (more than the action asked for, or not
 *         whole pages: nothing is recorded)
 */
DYNMEM_API int dynmem_balancer_confirm(dynmem_balancer *b, uint64_t vm_id, uint64_t action_id,
                                       uint64_t now_ms, uint64_t bytes, uint32_t flags);

/** Bits of dynmem_vm_counters::flags. */
enum dynmem_vm_state_flag {
    /** The VM is running. */
    DYNMEM_VMSTATE_RUNNING = 1u << 0,
    /** No report yet: held at startup memory (B14). */
    DYNMEM_VMSTATE_NO_DATA = 1u << 1,
    /** Reports are stale: held where it is. */
    DYNMEM_VMSTATE_STALE = 1u << 2,
    /** An action made no progress for the stuck timeout; excluded from
     *  balancing until it makes progress again. */
    DYNMEM_VMSTATE_STUCK = 1u << 3,
    /** An action is outstanding. */
    DYNMEM_VMSTATE_BUSY = 1u << 4,
    /** The guest reported distress (swap-in, major faults, PSI). */
    DYNMEM_VMSTATE_DISTRESS = 1u << 5,
    /** Hot-add failed; growth is by unballoon only until the VM's
     *  configuration changes or it hot-removes memory. */
    DYNMEM_VMSTATE_HOT_ADD_FAILED = 1u << 6,
    /** Its guest gave less than a shrink asked: it is not asked below what
     *  it kept until a back-off passes (5 s, doubling with each short
     *  answer in a row up to 5 min) or its demand falls; its share of a
     *  shortfall goes to the VMs weights ask next. */
    DYNMEM_VMSTATE_HELD_BACK = 1u << 7
};

/**
 * Per-VM counters, named after Hyper-V's "Dynamic Memory VM" counters (B12).
 * Size-prefixed output.
 */
struct dynmem_vm_counters {
    /** sizeof(struct dynmem_vm_counters) as compiled by the caller. */
    uint32_t size;
    /** Bitwise OR of enum dynmem_vm_state_flag. */
    uint32_t flags;
    /** Physical Memory: host memory backing the VM (confirmed). */
    uint64_t physical_bytes;
    /** Growth issued and not yet confirmed. */
    uint64_t in_flight_bytes;
    /** Guest Visible Physical Memory: startup + added - removed. */
    uint64_t guest_visible_bytes;
    /** Ballooned memory: visible - physical - smart-paged. */
    uint64_t balloon_bytes;
    /** Smart Paging working set: guest memory backed by the paging file. */
    uint64_t smart_paged_bytes;
    /** Added Memory: total hot-added since start. */
    uint64_t added_bytes;
    /** Removed Memory: total hot-removed since start. */
    uint64_t removed_bytes;
    /** Demand from the latest report. */
    uint64_t demand_bytes;
    /** Target: demand + buffer, clamped. */
    uint64_t target_bytes;
    /** Current Pressure, percent. */
    uint32_t current_pressure;
    /** Average Pressure over the estimator window, percent. */
    uint32_t average_pressure;
    /** Minimum Pressure over the window, percent. */
    uint32_t minimum_pressure;
    /** Maximum Pressure over the window, percent. */
    uint32_t maximum_pressure;
    /** enum dynmem_pressure_status. */
    uint32_t status;
    /** Written as zero. */
    uint32_t reserved0;
    /** Memory Add Operations: growth actions confirmed with progress. */
    uint64_t add_operations;
    /** Memory Remove Operations: shrink actions confirmed with progress. */
    uint64_t remove_operations;
    /** Written as zero. */
    uint64_t reserved[4];
};

/** Initializer for a struct dynmem_vm_counters to receive counters. */
#define DYNMEM_VM_COUNTERS_INIT { .size = sizeof(struct dynmem_vm_counters) }

/**
 * Read a VM's counters (as of the last tick for pressure figures).
 * @param b the balancer
 * @param vm_id the VM
 * @param[out] counters receives them; its size field must be set
 * @return 0, DYNMEM_ERR_NOT_FOUND, DYNMEM_ERR_INVALID_ARGUMENT or
 *         DYNMEM_ERR_STRUCT_SIZE
 */
DYNMEM_API int dynmem_balancer_vm_counters(const dynmem_balancer *b, uint64_t vm_id,
                                           struct dynmem_vm_counters *counters);

/** Host counters, named after Hyper-V's "Dynamic Memory Balancer" ones. */
struct dynmem_host_counters {
    /** sizeof(struct dynmem_host_counters) as compiled by the caller. */
    uint32_t size;
    /** Running VMs. */
    uint32_t running_vms;
    /** Host memory. */
    uint64_t total_bytes;
    /** Host reserve in effect. */
    uint64_t reserve_bytes;
    /** Available Memory: total - reserve - assigned - in flight. */
    uint64_t available_bytes;
    /** Memory assigned to running VMs (confirmed). */
    uint64_t assigned_bytes;
    /** Growth issued and not yet confirmed, all VMs. */
    uint64_t in_flight_bytes;
    /** Average Pressure: demand-weighted over running VMs with data, percent. */
    uint32_t average_pressure;
    /** VMs flagged stuck. */
    uint32_t stuck_vms;
    /** Added Memory: all growth confirmed since the balancer was created. */
    uint64_t added_bytes;
    /** Removed Memory: all shrinking confirmed since the balancer was created. */
    uint64_t removed_bytes;
    /** Written as zero. */
    uint64_t reserved[4];
};

/** Initializer for a struct dynmem_host_counters to receive counters. */
#define DYNMEM_HOST_COUNTERS_INIT { .size = sizeof(struct dynmem_host_counters) }

/**
 * Read the host counters.
 * @param b the balancer
 * @param[out] counters receives them; its size field must be set
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT or DYNMEM_ERR_STRUCT_SIZE
 */
DYNMEM_API int dynmem_balancer_host_counters(const dynmem_balancer *b,
                                             struct dynmem_host_counters *counters);

/**
 * Verify the balancer's books (B13 and per-VM bounds): sum(assigned + in
 * flight) + reserve <= total; every running VM's books add up (visible =
 * physical + balloon + paged); sizes are whole pages.
 * @param b the balancer
 * @return 0, DYNMEM_ERR_INVALID_ARGUMENT or DYNMEM_ERR_INVARIANT
 */
DYNMEM_API int dynmem_balancer_check(const dynmem_balancer *b);

/**
 * The detail of the balancer's latest refusal, in one line of English that
 * names the VM, the field or setting and the numbers, e.g.
 * "vm 4294967296: minimum 512 MiB above startup 256 MiB" (the same text as
 * dynmem_vm_config_explain() for a configuration), "vm 4294967296: startup
 * 2048 MiB does not fit: 1024 MiB free after the 940 MiB reserve, 1024 MiB
 * missing", "DYNMEM_BALANCER_PARAM_CALM_PERIOD_MS 90000000 outside
 * 0..86400000" or "vm 12: no such VM (never added, or removed)".
 *
 * Lifetime: each call that takes the balancer as a non-const handle clears
 * the detail when it starts and sets it when it refuses, so the text
 * describes the latest such call, and is "" if that call succeeded or had
 * nothing to add to its error code. Calls taking a const handle leave it.
 * It is kept in a fixed array inside the handle: no allocation, no global
 * or thread-local state. Thread safety: as every call on the handle (one
 * thread at a time).
 * @param b the balancer
 * @param[out] buf receives the text, cut to fit and NUL-terminated when
 *        @p len > 0; may be NULL when @p len is 0
 * @param len size of @p buf
 * @return the length of the full text (as snprintf: it was cut if this is
 *         >= len; 0 when there is no detail), or DYNMEM_ERR_INVALID_ARGUMENT
 *         (@p b NULL, or @p buf NULL with @p len > 0)
 */
DYNMEM_API int dynmem_balancer_last_error(const dynmem_balancer *b, char *buf, size_t len);

/**
 * Describe an action in one line of English with its numbers, e.g. for a log.
 * @param action the action
 * @param buf destination, NUL-terminated when @p len > 0; may be NULL when
 *        @p len is 0
 * @param len size of @p buf
 * @return the length of the full description (as snprintf: the text was cut
 *         if this is >= len), or DYNMEM_ERR_INVALID_ARGUMENT (@p action NULL,
 *         or @p buf NULL with @p len > 0)
 */
DYNMEM_API int dynmem_action_describe(const struct dynmem_action *action, char *buf, size_t len);

/**
 * Name of an action kind, e.g. "hot-add".
 *
 * Like every function of libdynmem that names a value, it never returns
 * NULL: a value this library version does not know is named "unknown".
 * @param kind enum dynmem_action_kind
 * @return a static string; "unknown" for an unknown kind. Never NULL,
 *         never to be freed.
 */
DYNMEM_API const char *dynmem_action_kind_name(uint32_t kind);

/**
 * Name of a reason, e.g. "lazy-reclaim".
 *
 * Like every function of libdynmem that names a value, it never returns
 * NULL: a value this library version does not know is named "unknown".
 * @param reason enum dynmem_reason
 * @return a static string; "unknown" for an unknown reason. Never NULL,
 *         never to be freed.
 */
DYNMEM_API const char *dynmem_reason_name(uint32_t reason);

/**
 * Name of a policy, e.g. "hyperv".
 *
 * Like every function of libdynmem that names a value, it never returns
 * NULL: a value this library version does not know is named "unknown".
 * @param policy enum dynmem_policy
 * @return a static string; "unknown" for an unknown policy. Never NULL,
 *         never to be freed.
 */
DYNMEM_API const char *dynmem_policy_name(uint32_t policy);

/** @} */

DYNMEM_END_DECLS

#endif /* DYNMEM_BALANCER_H */
