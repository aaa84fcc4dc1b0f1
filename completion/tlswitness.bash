# bash completion for tlswitness (installed by make install as
# share/bash-completion/completions/tlswitness).  Formats and map kinds
# come from the program's own error messages, so they follow its table.
_tlswitness()
{
	local cur prev words
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	if [ "$COMP_CWORD" -ge 1 ] && [ "${COMP_WORDS[1]}" = rules ]; then
		if [ "$COMP_CWORD" -eq 2 ]; then
			COMPREPLY=($(compgen -W "check show" -- "$cur"))
		else
			COMPREPLY=($(compgen -f -X '!*.y*ml' -- "$cur") $(compgen -d -- "$cur"))
		fi
		return
	fi
	if [ "$COMP_CWORD" -ge 1 ] && [ "${COMP_WORDS[1]}" = load ]; then
		case $prev in
		--db) return ;;	# a connection string: nothing to complete
		esac
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--db --quiet -q --help" -- "$cur"))
		else
			COMPREPLY=($(compgen -f -- "$cur"))
		fi
		return
	fi
	case $prev in
	-f|--format)
		words=$(tlswitness --format '?' 2>&1 | sed -n "s/.*(\(.*\)).*/\1/p" | tr -d ',')
		COMPREPLY=($(compgen -W "$words" -- "$cur"))
		return ;;
	--policy-map)
		words=$(tlswitness --policy-map '?' 2>&1 | sed -n "s/.*takes \(.*\), not.*/\1/p" | sed 's/ or / /; s/,//g')
		COMPREPLY=($(compgen -W "$words" -- "$cur"))
		return ;;
	--fail-on)
		COMPREPLY=($(compgen -W "plaintext weak unknown info low medium high critical" -- "$cur"))
		return ;;
	--verdict)
		COMPREPLY=($(compgen -W "encrypted unknown weak plaintext" -- "$cur"))
		return ;;
	--min-severity)
		COMPREPLY=($(compgen -W "info low medium high critical" -- "$cur"))
		return ;;
	--since|--until)
		COMPREPLY=($(compgen -W "today yesterday" -- "$cur"))
		return ;;
	--message-id|--queue-id|--rcpt|--from|--where)
		return ;;
	-r|--rules|-o|--output|--manifest|--pseudonymize|--journal-file|--sign|--state|--state-key|--policy-table|--timestamp-request)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	--journal-dir)
		COMPREPLY=($(compgen -d -- "$cur"))
		return ;;
	--year|--tz|--ports|--skew|--skew-max|--org|--contact|--label|--threads|--case|--custodian|--max-findings)
		return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "--format --rules --fail-on --year --tz --output --ports
			--policy-map --org --contact --pseudonymize --manifest --skew --skew-max
			--label --journal --journal-file --journal-dir --case --custodian --sign --timestamp-request --policy-table --max-findings --strict-inputs --state --state-key --state-reset --state-close --full-read --threads --quiet --version --help --message-id --queue-id
			--rcpt --from --since --until --verdict --min-severity --where" -- "$cur"))
		return
	fi
	if [ "$COMP_CWORD" -ge 1 ] && [ "${COMP_WORDS[1]}" = verify ]; then
		case $prev in
		--key|--sig|--manifest) COMPREPLY=($(compgen -f -- "$cur")); return ;;
		--inputs) COMPREPLY=($(compgen -d -- "$cur")); return ;;
		esac
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--key --sig --manifest --inputs" -- "$cur"))
		else
			COMPREPLY=($(compgen -f -- "$cur"))
		fi
		return
	fi
	if [ "$COMP_CWORD" -eq 1 ]; then
		COMPREPLY=($(compgen -W "rules verify load" -- "$cur") $(compgen -f -- "$cur"))
	else
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}
complete -o filenames -F _tlswitness tlswitness
