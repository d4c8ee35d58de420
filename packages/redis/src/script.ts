/**
 * GCRA `consume` as one atomic Lua script (the same arithmetic as `gcra()` in
 * `@palisade/rate-limit`), on Redis server time so that every process shares one clock. One call
 * decides any number of consumes of one policy, one per field in ARGV (a field may repeat), in
 * order — each exactly as if it had its own call, since nothing else runs in between.
 *
 * Layout: a policy's keys are fields of one hash per generation — `<base>:<G>:<n>` holds the keys
 * written during the n-th span of G µs. G is at least what a TAT may lie ahead of now (the burst
 * tolerance plus one step), so a key written in span n is still found in span n + 1 (looked up
 * there only when missing from the current hash) and its hash outlives its TAT. A call that adds a
 * field to span n's hash (the first write of a span always does) UNLINKs span n − 2's, which is
 * read no more: a hash of many keys is then freed off Redis's main thread, where an expiry frees
 * it in place (measured on Redis 7.0: 18 ms for 100 000 fields, 490 ms for 1 000 000, against
 * 0.1 ms for UNLINK). Its expiry (PEXPIREAT, set by the same calls, always to the same time) is
 * only for a policy that goes quiet: the end of span n + 2. An idle key is gone within 3 G. A write
 * is a field of one `HSET` per call, where a key of its own costs a `redis.call` each (`SET …
 * PXAT`, ~2.5 µs on Redis 7.0): the store's cost per decision halves; a call whose keys are all
 * in the hash already (HSET adds no field) skips the PEXPIREAT and the UNLINK, both done by then.
 * A key repeated within a call is written once: `at` maps it to its value's place in the HSET
 * arguments. A field holds the TAT relative to its span's start, a short integer, which the
 * script formats itself (`string.format('%d')`): Redis < 7.2 formats a Lua number argument with
 * `%.17g`, ~0.5 µs for an epoch-µs value and still ~60 ns more than `%d` for a short one. (50
 * live keys a call: 43 µs of script on Redis 7.0, against 50 µs with a write-once table, a list
 * of written keys and Redis's formatting.) The rare TAT further ahead than the hashes keep (a
 * reservation of `throttle()` waiting longer than G) is a key of its own, `<base>:k:<field>`, set
 * with PXAT, and `<base>` itself then exists until the last of them expires, so those keys are read
 * (MGET) only while there are some. A key's TAT is the largest value found: a TAT only grows
 * (a refund only takes back the last step), so an older copy is never larger.
 *
 * Everything is in whole microseconds: `TIME` gives them exactly, each step is rounded up on its
 * own — `tat + ceil(cost × interval)` — so that rounding only ever makes the limit stricter (by
 * < 1 µs per call). PXAT and PEXPIREAT, absolute, not PX: Redis rewrites a relative expiry into
 * an absolute one before propagating a script's writes to replicas and the AOF. Needs Redis ≥ 6.2.
 *
 * KEYS[1]: `<base>` · ARGV: G µs, interval µs, tolerance µs (burst × interval), the number n of
 * consumes, their n fields, then either one cost and max wait µs shared by every consume, or a
 * cost and max wait µs per consume.
 * Returns { v1, …, vn, now } in µs: vi = TAT − now after consume i when it is allowed (≥ 0; its
 * token, the TAT that `refund` checks is still the key's, is now + vi), −(TAT − now) − 1 when
 * refused. The rest of each decision (remaining, retry-after, the wait of a reservation) follows
 * from them, the cost and the rule, so the store computes it rather than Redis (a shorter reply is
 * cheaper on both sides).
 */
export const CONSUME_SCRIPT = `
local argv, ceil = ARGV, math.ceil
local base = KEYS[1]
local span, interval, tolerance = tonumber(argv[1]), tonumber(argv[2]), tonumber(argv[3])
local n = tonumber(argv[4])
local shared = #argv == n + 6
local cost, maxWait = tonumber(argv[n + 5]), tonumber(argv[n + 6])
local step = ceil(cost * interval)
local t = redis.call('TIME')
local now = t[1] * 1000000 + t[2]
local gen = math.floor(now / span)
local start = gen * span
local last = start + 2 * span
local hash = base .. ':' .. span .. ':' .. gen
local stored = redis.call('HMGET', hash, unpack(argv, 5, n + 4))
local missing, m = nil, 0
for i = 1, n do
  local v = stored[i]
  if v then
    stored[i] = v + start
  else
    if m == 0 then missing = {} end
    m = m + 1
    missing[m] = i
  end
end
if m > 0 then
  local fields = {}
  for j = 1, m do fields[j] = argv[missing[j] + 4] end
  local older = redis.call('HMGET', base .. ':' .. span .. ':' .. (gen - 1), unpack(fields))
  for j = 1, m do
    local v = older[j]
    if v then stored[missing[j]] = v + start - span end
  end
end
if redis.call('EXISTS', base) == 1 then
  local keys = {}
  for i = 1, n do keys[i] = base .. ':k:' .. argv[i + 4] end
  local far = redis.call('MGET', unpack(keys))
  for i = 1, n do
    local v = far[i]
    if v then
      v = tonumber(v)
      local h = stored[i]
      if not h or v > h then stored[i] = v end
    end
  end
end
local fv, at, p, beyond = {}, {}, 0, false
for i = 1, n do
  local key = argv[i + 4]
  if not shared then
    cost, maxWait = tonumber(argv[n + 3 + 2 * i]), tonumber(argv[n + 4 + 2 * i])
    step = ceil(cost * interval)
  end
  local j = at[key]
  local tat
  if j then tat = fv[j] + start else tat = stored[i] or now end
  if tat < now then tat = now end
  if tat - now + step - tolerance > maxWait + 1 then
    stored[i] = now - tat - 1
  else
    if step > 0 then
      tat = tat + step
      if not j then
        p = p + 2
        j = p
        fv[p - 1] = key
        at[key] = p
      end
      fv[j] = tat - start
      if tat > last then beyond = true end
    end
    stored[i] = tat - now
  end
end
if beyond then
  local far, q = 0, p
  for j = p, 2, -2 do
    local tat = fv[j] + start
    if tat > last then
      local pxat = ceil(tat / 1000)
      redis.call('SET', base .. ':k:' .. fv[j - 1], tat, 'PXAT', pxat)
      if pxat > far then far = pxat end
      fv[j - 1], fv[j] = fv[q - 1], fv[q]
      q = q - 2
    end
  end
  p = q
  if redis.call('PTTL', base) < far - math.floor(now / 1000) then
    redis.call('SET', base, 1, 'PXAT', far)
  end
end
if p > 0 then
  local format = string.format
  for j = 2, p, 2 do fv[j] = format('%d', fv[j]) end
  if redis.call('HSET', hash, unpack(fv, 1, p)) > 0 then
    redis.call('PEXPIREAT', hash, (start + 3 * span) / 1000)
    redis.call('UNLINK', base .. ':' .. span .. ':' .. (gen - 2))
  end
end
stored[n + 1] = now
return stored
`;

/**
 * Gives back what one consume took, only while the key's TAT is still the one that consume
 * stored (nothing was taken since), so a refund never lets a later caller jump ahead of a
 * scheduled one. The TAT goes back where it was found (current hash, previous one, or a key of its
 * own); what is left elsewhere is older, so smaller.
 *
 * KEYS[1]: `<base>` · ARGV: G µs, the field, the consume's token (µs), cost × interval µs.
 * Returns 1 if refunded, 0 otherwise.
 */
export const REFUND_SCRIPT = `
local base = KEYS[1]
local span, field, token = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local t = redis.call('TIME')
local now = t[1] * 1000000 + t[2]
local gen = math.floor(now / span)
local start = gen * span
local hash, older = base .. ':' .. span .. ':' .. gen, base .. ':' .. span .. ':' .. (gen - 1)
local best, where = -1, nil
local v = redis.call('HGET', hash, field)
if v then best, where = v + start, hash end
v = redis.call('HGET', older, field)
if v and v + start - span > best then best, where = v + start - span, older end
v = redis.call('GET', base .. ':k:' .. field)
if v and tonumber(v) > best then best, where = tonumber(v), base .. ':k:' .. field end
if best ~= token then return 0 end
local back = math.floor(token - tonumber(ARGV[4]))
if where == hash then
  redis.call('HSET', hash, field, back - start)
elseif where == older then
  redis.call('HSET', older, field, back - start + span)
elseif back <= now then
  redis.call('DEL', where)
else
  redis.call('SET', where, back, 'PXAT', math.ceil(back / 1000))
end
return 1
`;

/**
 * The SHA1s Redis files the scripts under (what EVALSHA takes), written out so the package needs
 * no crypto module at run time; `test/script.test.ts` checks them against the scripts.
 */
export const CONSUME_SHA = '81379180aacc898c09766df99275b517031863a0';
export const REFUND_SHA = '09d0d4ffd8844d597a90fa292965e19f015149d5';
