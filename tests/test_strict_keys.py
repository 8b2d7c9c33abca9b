"""No key is silently ignored: a key that the chosen law or switch does not read is
refused, naming the law or switch that reads it.

The cases are generated from the declarations (the laws registered for each block
kind, :attr:`aann.blocks.ChargingSource.NEEDS`, :func:`aann.spec.nonideal_needs`), so
a law, constant or switch added later is covered without a new test.
"""

import pytest

import aann
from aann import blocks
from aann.mismatch import mismatchable
from aann.params import params_of
from aann.spec import BlockSpec, Config, Nonideal, from_dict, nonideal_needs


def _readers(kind, key):
    return [law for law, cls in blocks.LAWS[kind].items() if key in params_of(cls)]


def _law_cases():
    """(kind, law, key, readers): every key some law of the kind declares and ``law``
    does not."""
    out = []
    for kind in blocks.KINDS:
        declared = blocks.section_params(kind)
        for law, cls in blocks.LAWS[kind].items():
            for key in declared:
                if key not in params_of(cls):
                    out.append((kind, law, key, _readers(kind, key)))
    return out


def _laws():
    return [(kind, law) for kind in blocks.KINDS for law in blocks.LAWS[kind]]


LAW_CASES = _law_cases()
SWITCH_CASES = sorted(nonideal_needs().items())


def _id(case):
    return ".".join(str(x) for x in case[:3])


def _default(kind, key):
    return blocks.section_params(kind)[key].default


def _turned_on(need, condition) -> dict:
    """The switch values that meet ``condition`` of ``need``."""
    switch, op, value = condition
    return {switch: value if op == "=" else value + 1.0}


def test_the_cases_cover_the_known_examples():
    cases = {(k, law, key) for k, law, key, _ in LAW_CASES}
    assert ("activation", "sigmoid", "Voff") in cases
    assert ("multiplier", "ideal", "a1") in cases and ("multiplier", "ideal", "KI") in cases
    assert {"Vmin", "Vmax", "noise_seed"} <= {k for k, _ in SWITCH_CASES}


# --- laws ----------------------------------------------------------------------------

@pytest.mark.parametrize("kind,law,key,readers", LAW_CASES, ids=[_id(c) for c in LAW_CASES])
def test_a_key_of_another_law_is_refused_naming_the_law_that_reads_it(kind, law, key, readers):
    """Even at its default value: a designer who writes it believes it matters."""
    with pytest.raises(aann.ValidationError) as e:
        Config(blocks={kind: {"law": law, key: _default(kind, key)}})
    text = str(e.value)
    assert f"blocks.{kind}.{key} is read only by" in text, text
    assert all(f'"{r}"' in text for r in readers) and f'law is "{law}"' in text, text
    assert f"remove {key}" in text, text


@pytest.mark.parametrize("kind,law", _laws())
def test_every_key_of_the_law_is_accepted_and_only_those_are_written_back(kind, law):
    reads = set(params_of(blocks.LAWS[kind][law]))
    given = {key: _default(kind, key) for key in reads}
    cfg = Config(blocks={kind: {"law": law, **given}})
    assert set(cfg.to_dict()["blocks"][kind]) == {"law"} | reads
    assert from_dict(cfg.to_dict()) == cfg
    assert from_dict(Config(blocks={kind: {"law": law}}).to_dict()) == cfg  # defaults


@pytest.mark.parametrize("law,key,readers", [c[1:] for c in LAW_CASES if c[0] == "multiplier"],
                         ids=[_id(c) for c in LAW_CASES if c[0] == "multiplier"])
@pytest.mark.parametrize("role", blocks.ROLES)
def test_a_role_key_must_be_read_by_the_law_of_that_role(role, law, key, readers):
    value = _default("multiplier", key)
    with pytest.raises(aann.ValidationError, match=f"blocks.multiplier.{role}.{key} is read "
                                                   f'only by .*this role\'s law is "{law}"'):
        Config(blocks={"multiplier": {role: {"law": law, key: value}}})
    # the section's law does not read it, the role's does: accepted
    cfg = Config(blocks={"multiplier": {"law": law, role: {"law": readers[0], key: value}}})
    assert from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize("law,key,readers", [c[1:] for c in LAW_CASES if c[0] == "multiplier"],
                         ids=[_id(c) for c in LAW_CASES if c[0] == "multiplier"])
def test_a_section_key_is_read_when_one_role_that_takes_it_reads_it(law, key, readers):
    value = _default("multiplier", key)
    # the section's law does not read it, but the charge role's law does and takes it
    cfg = Config(blocks={"multiplier": {"law": law, key: value,
                                        "charge": {"law": readers[0]}}})
    assert key in cfg.to_dict()["blocks"]["multiplier"]
    assert from_dict(cfg.to_dict()) == cfg
    spec = cfg.blocks.multiplier
    assert getattr(spec.role("charge"), key) == value
    # the section's law reads it, but every role that takes it has a law that does not
    with pytest.raises(aann.ValidationError, match=f"blocks.multiplier.{key} is read only by "
                                                   ".*the roles that take it from this section"):
        Config(blocks={"multiplier": {"law": readers[0], key: value,
                                      **{r: {"law": law} for r in blocks.ROLES}}})
    # every role sets its own: the section's value reaches none
    with pytest.raises(aann.ValidationError, match="every role sets its own"):
        Config(blocks={"multiplier": {"law": readers[0], key: value,
                                      **{r: {key: value} for r in blocks.ROLES}}})


def test_the_issue_examples_are_refused_with_the_fix():
    cases = {
        "blocks.activation.Voff is read only by law \"sigmoid_offset\" (this section's law is "
        "\"sigmoid\"); set law = \"sigmoid_offset\" or remove Voff":
            {"blocks": {"activation": {"Voff": "10mV"}}},
        "blocks.multiplier.a1 is read only by law \"polynomial\"":
            {"blocks": {"multiplier": {"a1": 0.5}}},
        "blocks.multiplier.KI is read only by law \"parasitic\" (this section's law is "
        "\"ideal\"); set law = \"parasitic\" or remove KI":
            {"blocks": {"multiplier": {"KI": "500uA"}}},
        "nonideal.Vmin is read only with rails = true (rails = false); set rails = true, or "
        "remove Vmin": {"nonideal": {"Vmin": "0.2V"}},
        "nonideal.Vmax is read only with rails = true": {"nonideal": {"Vmax": "1V"}},
    }
    for message, over in cases.items():
        with pytest.raises(aann.ValidationError) as e:
            Config(**over)
        assert message in str(e.value)


def test_a_toml_file_with_an_unread_key_is_refused(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[blocks.multiplier]\nlaw = "ideal"\nKI = "200uA"\n')
    with pytest.raises(aann.ValidationError, match="KI is read only by law \"parasitic\""):
        aann.load_toml(path)


def test_block_spec_alone_is_checked_alike():
    with pytest.raises(aann.ValidationError, match="blocks.activation.Ioff"):
        BlockSpec("activation", Ioff="1uA")
    assert BlockSpec("activation", law="sigmoid_offset", Ioff="1uA").Ioff == 1e-6


# --- switches ------------------------------------------------------------------------

@pytest.mark.parametrize("key,need", SWITCH_CASES, ids=[k for k, _ in SWITCH_CASES])
def test_a_switched_key_is_refused_without_its_switch(key, need):
    value = aann.spec.nonideal_params()[key].default
    with pytest.raises(aann.ValidationError) as e:
        Nonideal(**{key: value})
    text = str(e.value)
    assert f"nonideal.{key} is read only with {need}" in text, text
    assert all(switch in text for switch in need.switches) and f"remove {key}" in text
    assert key not in Nonideal().to_dict()


@pytest.mark.parametrize("key,need", SWITCH_CASES, ids=[k for k, _ in SWITCH_CASES])
def test_a_switched_key_is_accepted_with_its_switch(key, need):
    value = aann.spec.nonideal_params()[key].default
    for condition in need.conditions:
        section = Nonideal(**{**_turned_on(need, condition), key: value})
        assert section.to_dict()[key] == value
        assert Nonideal(**section.to_dict()) == section


@pytest.mark.parametrize("key", sorted(blocks.ChargingSource.NEEDS))
def test_a_mismatch_of_a_switched_constant_is_refused_without_its_switch(key):
    need = blocks.ChargingSource.NEEDS[key]
    with pytest.raises(aann.ValidationError, match=f'mismatch."{key}" is drawn only with '
                                                   f"\\[nonideal\\] {need.switches[0]}"):
        Config(mismatch={key: 0.0})
    on = _turned_on(need, need.conditions[0])
    assert Config(nonideal=on, mismatch={key: 0.0}).mismatch.sigmas[key] == (0.0, False)


# --- [mismatch] sigmas of constants no law in use has ---------------------------------

def _mismatch_cases():
    known = mismatchable()
    out = []
    for kind, law, key, readers in LAW_CASES:
        if f"{kind}.{key}" in known:
            out.append((kind, law, f"{kind}.{key}", readers))
            if kind == "multiplier":
                out.append((kind, law, f"multiplier.charge.{key}", readers))
    return out


MISMATCH_CASES = _mismatch_cases()


@pytest.mark.parametrize("kind,law,key,readers", MISMATCH_CASES,
                         ids=[f"{c[1]}-{c[2]}" for c in MISMATCH_CASES])
def test_a_sigma_of_a_constant_no_law_in_use_has_is_refused(kind, law, key, readers):
    with pytest.raises(aann.ValidationError) as e:
        Config(blocks={kind: {"law": law}}, mismatch={key: 0.0})
    text = str(e.value)
    assert f'mismatch."{key}" is drawn only for' in text and f'"{law}"' in text, text
    assert f'"{readers[0]}"' in text, text
    cfg = Config(blocks={kind: {"law": readers[0]}}, mismatch={key: 0.0})
    assert from_dict(cfg.to_dict()) == cfg


def test_a_multiplier_sigma_is_fine_when_one_role_that_takes_it_has_the_constant():
    cfg = Config(blocks={"multiplier": {"charge": {"law": "parasitic"}}},
                 mismatch={"multiplier.KI": "5%"})
    assert cfg.mismatch.sigma("multiplier.charge", "KI") == (0.05, True)
    with pytest.raises(aann.ValidationError, match="the multiplier roles it applies to use "
                                                   "law \"ideal\""):
        Config(blocks={"multiplier": {"charge": {"law": "parasitic"}}},
               mismatch={"multiplier.KI": "5%", "multiplier.charge.KI": "1%"})


# --- what is written back, and replace -------------------------------------------------

def test_to_dict_holds_only_what_is_read():
    settings = Config().to_dict()
    assert "KI" not in settings["blocks"]["multiplier"]
    assert "Voff" not in settings["blocks"]["activation"]
    assert not {"Vmin", "Vmax", "noise_seed"} & set(settings["nonideal"])
    rails = Config(nonideal={"rails": True}).to_dict()["nonideal"]
    assert {"Vmin", "Vmax"} <= set(rails) and "noise_seed" not in rails
    noisy = Config(nonideal={"shot_noise": True}).to_dict()["nonideal"]
    assert noisy["noise_seed"] == 0


def test_replace_drops_the_keys_a_new_law_or_switch_does_not_read():
    cfg = Config(blocks={"multiplier": {"law": "parasitic", "KI": "300uA"}},
                 nonideal={"rails": True, "Vmin": "-1V", "shot_noise": True, "noise_seed": 4},
                 mismatch={"multiplier.KI": "5%", "Vmin": "1mV"})
    ideal = cfg.replace(blocks={"multiplier": {"law": "ideal"}})
    assert ideal.blocks.multiplier.law == "ideal" and "KI" not in ideal.to_dict()["blocks"][
        "multiplier"]
    assert set(ideal.mismatch.sigmas) == {"Vmin"}
    off = cfg.replace(nonideal={"rails": False, "shot_noise": False})
    assert not {"Vmin", "noise_seed"} & set(off.to_dict()["nonideal"])
    assert set(off.mismatch.sigmas) == {"multiplier.KI"}
    assert off.replace(nonideal={"rails": True}).nonideal.Vmin == 0.0  # back to the default
    # what replace is given is checked like a file's keys
    with pytest.raises(aann.ValidationError, match="nonideal.noise_seed is read only with"):
        off.replace(nonideal={"noise_seed": 1})
    with pytest.raises(aann.ValidationError, match="blocks.multiplier.KI is read only by"):
        cfg.replace(blocks={"multiplier": {"law": "ideal", "KI": "1mA"}})
    # a role's law changed: its inherited keys are dropped too
    roles = Config(blocks={"multiplier": {"charge": {"law": "parasitic", "KI": "1mA"}}})
    assert roles.replace(blocks={"multiplier": {"charge": {"law": "ideal"}}}).to_dict()[
        "blocks"]["multiplier"]["charge"] == {"law": "ideal"}


def test_a_sweep_point_that_changes_the_law_drops_the_bases_keys_of_the_other(tmp_path):
    """The base is checked alone (strictly); a point that switches the law away from the
    one a base key belongs to drops that key, as Config.replace does."""
    path = tmp_path / "s.toml"
    path.write_text('[base.blocks.multiplier]\nlaw = "parasitic"\nKI = "150uA"\n'
                    '[grid]\n"blocks.multiplier.law" = ["ideal", "parasitic"]\n')
    ideal, parasitic = aann.load_sweep(path).configs
    assert "KI" not in ideal.blocks.multiplier.to_dict()
    assert parasitic.blocks.multiplier.to_dict()["KI"] == 150e-6
    path.write_text('[base.blocks.multiplier]\nKI = "150uA"\n'
                    '[grid]\n"training.epochs" = [1, 2]\n')
    with pytest.raises(aann.ValidationError, match='KI is read only by law "parasitic"'):
        aann.load_sweep(path)
    with pytest.raises(aann.ValidationError, match="sweep file must be the path"):
        aann.load_sweep(3)
