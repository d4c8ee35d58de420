/**
 * GCRA `consume` as one atomic Lua script (the same arithmetic as `gcra()` in
 * `@palisade/rate-limit`), on Redis server time so that every process shares one clock. One call
 * decides any number of consumes, one per key in KEYS (a key may repeat), in order — each exactly
 * as if it had its own call, since nothing else runs in between.
 *
 * Everything is in whole microseconds: `TIME` gives them exactly, the TAT is stored as an integer
 * (Redis keeps it int-encoded), each step rounded up on its own — `tat + ceil(cost × interval)`,
 * so that rounding only ever makes the limit stricter (by < 1 µs per call) and a step below the
 * doubles' resolution at epoch-µs magnitudes (~0.25 µs) still moves the TAT. The key expires
 * (PXAT) when its TAT passes — the moment its state equals no state — so nothing is left behind.
 * PXAT, not PX: Redis rewrites a relative expiry into an absolute one before propagating a script's
 * writes to replicas and the AOF. Reads are one MGET, and each key is written once, after its last
 * consume. Numbers go to `SET` as Lua numbers, not `string.format('%d')` strings: that is ~0.4 µs
 * a write cheaper on Redis < 7.2 (which formats Lua numbers with `%.17g`), but slower on 7.2+ and
 * Valkey (integer formatting) and wrong where Lua's `%d` goes through a 32-bit C long. Needs
 * Redis ≥ 6.2.
 *
 * KEYS: the key of each consume · ARGV: interval µs, tolerance µs (burst × interval), then either
 * one cost and max wait µs shared by every consume, or a cost and max wait µs per consume.
 * Returns { now, v1, …, vn } in µs: vi = TAT − now after consume i when it is allowed (≥ 0; its
 * token, the stored TAT that `refund` checks is still there, is now + vi), −(TAT − now) − 1 when
 * refused. The rest of each decision (remaining, retry-after, the wait of a reservation) follows
 * from them, the cost and the rule, so the store computes it rather than Redis (a shorter reply is
 * cheaper on both sides).
 */
export const CONSUME_SCRIPT = `
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local shared = #ARGV == 4
local cost, maxWait = tonumber(ARGV[3]), tonumber(ARGV[4])
local t = redis.call('TIME')
local now = t[1] * 1000000 + t[2]
local stored = redis.call('MGET', unpack(KEYS))
local out, tats, written = {now}, {}, {}
for i = 1, #KEYS do
  local key = KEYS[i]
  if not shared then cost, maxWait = tonumber(ARGV[2 * i + 1]), tonumber(ARGV[2 * i + 2]) end
  local tat = tats[key]
  if tat == nil then
    tat = tonumber(stored[i]) or now
    if tat < now then tat = now end
  end
  local step = math.ceil(cost * interval)
  if tat - now + step - tolerance > maxWait + 1 then
    out[i + 1] = now - tat - 1
  else
    if step > 0 then
      tat = tat + step
      if not written[key] then
        written[key] = true
        written[#written + 1] = key
      end
    end
    out[i + 1] = tat - now
  end
  tats[key] = tat
end
for i = 1, #written do
  local tat = tats[written[i]]
  redis.call('SET', written[i], tat, 'PXAT', math.ceil(tat / 1000))
end
return out
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
export const CONSUME_SHA = 'd3fecbfc19b0396c190db2ff65a4fbe9091bca42';
export const REFUND_SHA = '7b1956c8a9fba6605bbd0eb0bc0d226767c693a7';
