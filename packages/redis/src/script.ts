import { createHash } from 'node:crypto';

/**
 * GCRA `consume` as one atomic Lua script (the same arithmetic as `gcra()` in
 * `@palisade/rate-limit`), on Redis server time so that every process shares one clock.
 *
 * KEYS[1] the key · ARGV: interval ms, tolerance ms (burst × interval), cost, max wait ms.
 * Returns { allowed 0|1, remaining, resetMs × 1000, retryAfterMs × 1000, token }, all in whole
 * microseconds since Redis turns Lua numbers into integers; the token (the TAT in µs) is what
 * `refund` checks against. The TAT is stored as a Lua number, which Redis writes in its shortest
 * exact form (no `string.format` in the script: it costs more than the rest of it). The key
 * expires (PX) when its TAT passes — the moment its state equals no state — so nothing is left.
 */
export const CONSUME_SCRIPT = `
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local maxWait = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = t[1] * 1000 + t[2] / 1000
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local nextTat = tat + cost * interval
local wait = nextTat - tolerance - now
if wait > maxWait + 0.001 then
  local left = math.floor((tolerance - (tat - now) + 0.001) / interval)
  return {0, left, math.ceil((tat - now) * 1000), math.ceil(wait * 1000), 0}
end
local left = math.floor((tolerance - (nextTat - now) + 0.001) / interval)
if cost > 0 then
  redis.call('SET', KEYS[1], nextTat, 'PX', math.max(1, math.ceil(nextTat - now)))
end
if wait < 0 then wait = 0 end
return {1, left, math.ceil((nextTat - now) * 1000), math.ceil(wait * 1000), math.floor(nextTat * 1000)}
`;

/**
 * Gives back what one consume took, only while the key's TAT is still the one that consume left
 * (nothing was taken since), so a refund never lets a later caller jump ahead of a scheduled one.
 *
 * KEYS[1] the key · ARGV: the consume's token (its TAT in whole µs), cost × interval ms.
 * Returns 1 if refunded, 0 otherwise.
 */
export const REFUND_SCRIPT = `
local current = tonumber(redis.call('GET', KEYS[1]))
if not current or math.floor(current * 1000) ~= tonumber(ARGV[1]) then return 0 end
local t = redis.call('TIME')
local now = t[1] * 1000 + t[2] / 1000
local back = current - tonumber(ARGV[2])
if back <= now then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], back, 'PX', math.max(1, math.ceil(back - now)))
end
return 1
`;

/** The SHA1 Redis files a script under (what EVALSHA takes). */
export const sha1 = (script: string): string => createHash('sha1').update(script).digest('hex');
