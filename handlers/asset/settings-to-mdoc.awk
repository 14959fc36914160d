# The settings table of `dlcs-admin config --markdown` as an mdoc list, for
# dlcs.conf(5): one ".It" per key with its type, default and meaning.
function roff(s) {
	gsub(/\\/, "\\e", s)
	gsub(/`/, "", s)
	if (s ~ /^[.']/)
		s = "\\&" s
	return s
}
/^\| `/ {
	n = split($0, f, / \| /)
	key = f[1]; sub(/^\| `/, "", key); sub(/`$/, "", key)
	meaning = f[n]; sub(/ \|$/, "", meaning)
	print ".It Cm " roff(key)
	def = f[3] == "–" ? "none" : roff(f[3])
	print roff(f[2]) "; default: " def "."
	print roff(meaning) "."
}
