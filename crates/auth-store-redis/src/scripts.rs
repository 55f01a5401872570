//! The Lua scripts that make lease, fenced write, renewal, release and counting
//! atomic in Redis.

/// `KEYS[1]` the lease, `KEYS[2]` the fence counter, `ARGV[1]` the lease's time to
/// live in ms: the new fence if the lease was free, else 0.
pub(crate) const TRY_LEASE: &str = r"
local fence = redis.call('INCR', KEYS[2])
if redis.call('SET', KEYS[1], fence, 'NX', 'PX', ARGV[1]) then
  return fence
end
return 0
";

/// `KEYS[1]` the lease, `ARGV[1]` the holder's fence: deleted only if still theirs.
pub(crate) const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// `KEYS[1]` the lease, `KEYS[2]` the token, `ARGV[1]` the writer's fence,
/// `ARGV[2]` the token as stored, `ARGV[3]` its time to live in ms (`0`: none): the
/// token written (1) only if the lease is still the writer's, else nothing (0). A
/// lease that ran out is gone from Redis, so it fails the comparison too.
pub(crate) const PUT: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
if tonumber(ARGV[3]) > 0 then
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
else
  redis.call('SET', KEYS[2], ARGV[2])
end
return 1
";

/// `KEYS[1]` the lease, `ARGV[1]` the holder's fence, `ARGV[2]` the new time to live
/// in ms: 1 if the lease was still theirs and now lives that long, else 0.
pub(crate) const RENEW: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
";

/// `KEYS[1]` the counter, `ARGV[1]` the limit, `ARGV[2]` when the window ends (ms
/// since the epoch): the count after taking one, or -1 if the limit is reached.
pub(crate) const TAKE: &str = r"
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= tonumber(ARGV[1]) then
  return -1
end
used = redis.call('INCR', KEYS[1])
if used == 1 then
  redis.call('PEXPIREAT', KEYS[1], ARGV[2])
end
return used
";

/// `KEYS[1]` the counter, `ARGV[1]` the limit, `ARGV[2]` the window's end: the
/// counter raised to the limit (the server said it was reached).
pub(crate) const EXHAUST: &str = r"
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])
end
return 1
";
