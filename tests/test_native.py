"""Facts of the native engine's training transient."""

import numpy as np

import aann


def small(teach="always", epochs=6, **training):
    return aann.Config(training=aann.Training(epochs=epochs, seeds=3, teach=teach, **training))


def test_vteach_off_leaves_every_weight_bit_identical():
    r = aann.train(small("off"))
    for W0, W in zip(r.W_init, r.W_final):
        assert np.array_equal(W0, W)


def test_alternate_hold_epochs_leave_weights_unchanged_and_learn_epochs_change_them():
    r = aann.train(small("alternate"))
    for W0, W in zip(r.W_init, r.W_epoch):
        before = np.concatenate([W0[:, None], W], axis=1)  # before[:, e] = W after epoch e
        # epochs 1, 3, 5 learn; 2, 4, 6 hold.
        for e in (1, 3, 5):
            assert not np.array_equal(before[:, e], before[:, e - 1])
            assert np.array_equal(before[:, e + 1], before[:, e])


def test_more_steps_do_not_change_the_answer_at_lambda_1():
    """53 epochs (at least the 50 this test always ran): a prime number of epochs runs
    one epoch per compiled call, so the coarse run is the program the runs above
    compiled (any epochs <= 20 run so)."""
    coarse = aann.train(small(epochs=53))
    fine = aann.train(small(epochs=53).replace(solver={"steps": 16}))
    assert max(np.abs(a - b).max() for a, b in zip(coarse.W_final, fine.W_final)) < 1e-6


def test_xor_learns():
    r = aann.train(aann.Config(training=aann.Training(epochs=1000, seeds=3)))
    assert np.all(r.mse[:, -1] < 0.01)
    assert np.all(r.mse[:, -1] < r.mse[:, 0])


def test_released_compiled_code_gives_back_its_memory_mappings():
    """A process that compiles many circuits must be able to give the executables back
    (XLA maps memory per executable; Linux allows 65,530 mappings). The circuits are
    one-layer networks (1-1 on the two-row data, one epoch): each compiles in about half
    the time of a 2-2-1 and still adds about 90 mappings (measured)."""
    import aann
    from aann.engines import native

    def maps():
        with open("/proc/self/maps", "rb") as f:
            return sum(1 for _ in f)

    native.release_compiled()
    before = maps()
    for keta in (0.5, 0.7, 0.9, 1.1):  # each constant compiles anew (constants are static)
        aann.train(aann.Config(network={"sizes": [1, 1]}, constants={"Keta": keta},
                               training={"dataset": "two-row", "epochs": 1, "seeds": 1}))
    grown = maps()
    native.release_compiled()
    assert grown > before + 100
    assert maps() < grown - 100
    assert native.release_compiled_if_crowded(limit=10**9) is False
