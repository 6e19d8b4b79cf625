"""The pure core of Tally: the rules of SPEC.md, standard library only."""
