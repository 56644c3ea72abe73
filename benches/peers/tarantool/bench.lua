-- Tarantool's side of the peer benchmark (benches/peers/benches/peers/tarantool.rs runs it).
--
--   tarantool bench.lua PHASE WORK_DIR WAL_MODE DATA_FILE N [ARG]
--
-- Tarantool runs this script in its own process, as tabula runs inside its caller: no network
-- and no client library between the workload and memtx. The rows are the benchmark's rows,
-- read from DATA_FILE (JSON Lines written by the Rust side: `k` and the fields), stored as
-- tuples {k, name, email, score, active, created, city, tags} in a memtx space with a TREE
-- primary key on `k`, which is what a Tarantool user would make of them. `wal_mode` is fixed
-- per process, so each phase is one process:
--
--   commits  N single-row commits (auto-commit `replace`), ARG fibers at once; with
--            `ready_then_wait`, prints `ready` and waits to be killed (recovery).
--   load     N rows in transactions of 1,000, then ARG random point reads, ARG/10 scans of
--            10 rows, the resident growth per row, and `box.snapshot()`.
--   recover  opens WORK_DIR and reports how long the recovery took and how many rows it has.
--
-- The figures go to stdout as one JSON object on the last line.

local json = require('json')
local fiber = require('fiber')
local clock = require('clock')
local fio = require('fio')

local phase, work_dir, wal_mode, data_file = arg[1], arg[2], arg[3], arg[4]
local n = tonumber(arg[5])
local extra = arg[6]

local function rss_bytes()
    local f = io.open('/proc/self/statm')
    local statm = f:read('*l')
    f:close()
    local resident = tonumber(statm:match('^%d+%s+(%d+)'))
    return resident * 4096
end

local started = clock.monotonic()
box.cfg({
    work_dir = work_dir,
    wal_mode = wal_mode,
    -- Enough for the full run (1M rows take ~0.2 GiB in memtx), and small enough for any CI
    -- machine to map.
    memtx_memory = 1024 * 1024 * 1024,
    checkpoint_interval = 0,
    log = 'tarantool.log',
    log_level = 4,
})
local opened = clock.monotonic() - started

local space = box.space.rows
if space == nil then
    space = box.schema.space.create('rows')
    space:create_index('pk', { type = 'tree', parts = { 1, 'string' } })
end

local function read_rows(count)
    local rows = {}
    local f = assert(io.open(data_file))
    for line in f:lines() do
        local r = json.decode(line)
        rows[#rows + 1] = box.tuple.new({ r.k, r.name, r.email, r.score, r.active, r.created,
            r.city, r.tags })
        if #rows >= count then
            break
        end
    end
    f:close()
    return rows
end

local out = {}

if phase == 'commits' then
    local fibers = tonumber(extra) or 1
    local rows = read_rows(n)
    local done = fiber.channel(fibers)
    local t0 = clock.monotonic()
    for f = 1, fibers do
        fiber.create(function()
            for i = f, #rows, fibers do
                space:replace(rows[i])
            end
            done:put(true)
        end)
    end
    for _ = 1, fibers do
        done:get()
    end
    local secs = clock.monotonic() - t0
    out.commits_per_second = #rows / secs
    out.commits = #rows
    if os.getenv('TARANTOOL_BENCH_READY') == '1' then
        print('ready')
        io.stdout:flush()
        fiber.sleep(3600)
    end
elseif phase == 'load' then
    local reads = tonumber(extra) or 0
    local rows = read_rows(n)
    collectgarbage()
    local rss_before = rss_bytes()
    local t0 = clock.monotonic()
    for first = 1, #rows, 1000 do
        box.begin()
        for i = first, math.min(first + 999, #rows) do
            space:replace(rows[i])
        end
        box.commit()
    end
    local secs = clock.monotonic() - t0
    -- Measured before anything else is allocated: the rows read above were already resident.
    out.resident_per_row = (rss_bytes() - rss_before) / #rows
    out.load_rows_per_second = #rows / secs
    out.rows = #rows
    -- What memtx itself counts: tuple data and the primary index.
    out.bsize_per_row = (space:bsize() + space.index.pk:bsize()) / #rows
    local keys = {}
    for i = 1, #rows do
        keys[i] = rows[i][1]
    end
    rows = nil
    collectgarbage()

    math.randomseed(2025)
    local found = 0
    t0 = clock.monotonic()
    for _ = 1, reads do
        if space:get(keys[math.random(#keys)]) ~= nil then
            found = found + 1
        end
    end
    out.reads_per_second = reads / (clock.monotonic() - t0)
    out.reads_found = found
    local scans = math.floor(reads / 10)
    local scanned = 0
    t0 = clock.monotonic()
    for _ = 1, scans do
        scanned = scanned + #space:select(keys[math.random(#keys)],
            { iterator = 'GE', limit = 10 })
    end
    out.scans_per_second = scans / (clock.monotonic() - t0)
    out.scanned_rows = scanned

    t0 = clock.monotonic()
    box.snapshot()
    out.snapshot_seconds = clock.monotonic() - t0
    -- The newest snapshot (the names are zero-padded LSNs, so the last in order).
    local snaps = fio.glob(fio.pathjoin(work_dir, '*.snap'))
    table.sort(snaps)
    out.snapshot_bytes = fio.stat(snaps[#snaps]).size
elseif phase == 'recover' then
    out.recovery_seconds = opened
    out.rows = space:len()
else
    error('unknown phase ' .. tostring(phase))
end

print(json.encode(out))
io.stdout:flush()
os.exit(0)
