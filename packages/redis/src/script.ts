/**
 * GCRA `consume` as one atomic Lua script (the same arithmetic as `gcra()` in
 * `@palisade/rate-limit`), on Redis server time so that every process shares one clock.
 *
 * Everything is in whole microseconds: `TIME` gives them exactly, the TAT is stored as an integer
 * (Redis keeps it int-encoded and writes it without float formatting — measured cheaper than
 * storing a float), rounded up so that rounding only ever makes the limit stricter (by < 1 µs per
 * call). The key expires (PXAT) when its TAT passes — the moment its state equals no state — so
 * nothing is left behind. PXAT, not PX: Redis 7 rewrites a relative expiry into an absolute one
 * before propagating a script's writes, and that rewrite cost more than the rest of the script
 * (redis-benchmark: 1.5–3.7× the throughput with PXAT). Needs Redis ≥ 6.2.
 *
 * KEYS[1] the key · ARGV: interval µs, tolerance µs (burst × interval), cost, max wait µs.
 * Returns { 1, TAT − now, token } when allowed, { 0, TAT − now, wait } when refused, in µs: the rest
 * of the decision (remaining, the wait of an allowed reservation) follows from them and the rule,
 * so the store computes it rather than Redis (a shorter reply is cheaper on both sides). The token
 * is the stored TAT, which `refund` checks is still there.
 */
export const CONSUME_SCRIPT = `
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local maxWait = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = t[1] * 1000000 + t[2]
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local nextTat = math.ceil(tat + cost * interval)
local wait = nextTat - tolerance - now
if wait > maxWait + 1 then
  return {0, tat - now, math.ceil(wait)}
end
if cost > 0 then
  redis.call('SET', KEYS[1], nextTat, 'PXAT', math.ceil(nextTat / 1000))
else
  nextTat = tat
end
return {1, nextTat - now, nextTat}
`;

/**
 * Gives back what one consume took, only while the key still holds the TAT that consume stored
 * (nothing was taken since), so a refund never lets a later caller jump ahead of a scheduled one.
 *
 * KEYS[1] the key · ARGV: the consume's token, cost × interval µs. Returns 1 if refunded, 0 otherwise.
 */
export const REFUND_SCRIPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local t = redis.call('TIME')
local now = t[1] * 1000000 + t[2]
local back = math.floor(tonumber(ARGV[1]) - tonumber(ARGV[2]))
if back <= now then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], back, 'PXAT', math.ceil(back / 1000))
end
return 1
`;

/**
 * The SHA1s Redis files the scripts under (what EVALSHA takes), written out so the package needs
 * no crypto module at run time; `test/script.test.ts` checks them against the scripts.
 */
export const CONSUME_SHA = '191f98872d74b02b76491e17e21c28b698fc5d57';
export const REFUND_SHA = '7b1956c8a9fba6605bbd0eb0bc0d226767c693a7';
