-- Exact amounts for the counter scripts: integers of micro-units (six places).
--
-- Lua's numbers are doubles, exact for integers below 2^53. An amount is kept as a
-- Lua number while its magnitude is below 2^52 (so the sum of two such numbers is
-- still exact) and as a decimal string of at least 16 digits beyond that, where `add`
-- and `cmp` work digit by digit. No float rounding ever touches an amount; Redis
-- stores them as strings. (2^52 micro-units are 4.5 billion: a pool of a billion
-- credits stays a number, which the digit strings are many times slower than.)

local SMALL = 4503599627370496 -- 2^52

-- An amount from its decimal string (as Python writes it: no leading zeros). Up to
-- 16 digits `tonumber` is exact (below 2^53), so it decides which side of SMALL.
local function num(s)
  if #s <= 15 then
    return tonumber(s)
  end
  local neg = string.sub(s, 1, 1) == '-'
  local digits = string.gsub(neg and string.sub(s, 2) or s, '^0+', '')
  if #digits <= 16 then
    local n = tonumber(digits) or 0
    if n < SMALL then
      return neg and -n or n
    end
  end
  return (neg and '-' or '') .. digits
end

-- The decimal string of an amount.
local function str(v)
  if type(v) == 'number' then
    if v == 0 then
      return '0'
    end
    return string.format('%.0f', v)
  end
  return v
end

-- (negative, digits) of an amount; zero is ('0', not negative).
local function split(v)
  local s = str(v)
  if string.sub(s, 1, 1) == '-' then
    return true, string.sub(s, 2)
  end
  return false, s
end

local function cmp_digits(a, b)
  if #a ~= #b then
    return #a < #b and -1 or 1
  end
  if a == b then
    return 0
  end
  return a < b and -1 or 1
end

-- a + b or a - b (a >= b) on digit strings, seven digits at a time.
local function combine_digits(a, b, sign)
  local out, carry, i, j = {}, 0, #a, #b
  while i > 0 or j > 0 do
    local x = i > 0 and tonumber(string.sub(a, math.max(1, i - 6), i)) or 0
    local y = j > 0 and tonumber(string.sub(b, math.max(1, j - 6), j)) or 0
    local part = x + sign * y + carry
    carry = 0
    if part >= 1e7 then
      part, carry = part - 1e7, 1
    elseif part < 0 then
      part, carry = part + 1e7, -1
    end
    table.insert(out, 1, string.format('%07d', part))
    i, j = i - 7, j - 7
  end
  if carry > 0 then
    table.insert(out, 1, tostring(carry))
  end
  local digits = string.gsub(table.concat(out), '^0+', '')
  return digits == '' and '0' or digits
end

local function neg(v)
  if type(v) == 'number' then
    return -v
  end
  if string.sub(v, 1, 1) == '-' then
    return string.sub(v, 2)
  end
  return '-' .. v
end

local function add(a, b)
  if type(a) == 'number' and type(b) == 'number' then
    local sum = a + b
    if sum < SMALL and sum > -SMALL then
      return sum
    end
  end
  local a_neg, a_digits = split(a)
  local b_neg, b_digits = split(b)
  if a_neg == b_neg then
    return num((a_neg and '-' or '') .. combine_digits(a_digits, b_digits, 1))
  end
  local order = cmp_digits(a_digits, b_digits)
  if order == 0 then
    return 0
  end
  if order > 0 then
    return num((a_neg and '-' or '') .. combine_digits(a_digits, b_digits, -1))
  end
  return num((b_neg and '-' or '') .. combine_digits(b_digits, a_digits, -1))
end

-- -1, 0 or 1 as a is less than, equal to or greater than b.
local function cmp(a, b)
  local a_small, b_small = type(a) == 'number', type(b) == 'number'
  if a_small and b_small then
    if a < b then
      return -1
    end
    return a > b and 1 or 0
  end
  -- A string is beyond SMALL either way of zero, a number within: its sign decides.
  if a_small then
    return string.sub(b, 1, 1) == '-' and 1 or -1
  end
  if b_small then
    return string.sub(a, 1, 1) == '-' and -1 or 1
  end
  local a_neg, a_digits = split(a)
  local b_neg, b_digits = split(b)
  if a_neg ~= b_neg then
    return a_neg and -1 or 1
  end
  local order = cmp_digits(a_digits, b_digits)
  return a_neg and -order or order
end
