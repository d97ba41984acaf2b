"""The four continuous-output criteria against the fairseq criterion contract."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.special
import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

import fairseq_vmf  # noqa: F401  (registers the criteria)
from fairseq.criterions import CRITERION_REGISTRY
from fairseq.data import Dictionary
from fairseq.logging import metrics
from fairseq_vmf.errors import InputError
from fairseq_vmf.maths import cosine_loss, l2_loss, table_nll, vmf_nll

DIM = 6
WORDS = "a b c d e f g h".split()


def make_dictionary():
    dictionary = Dictionary()
    for word in WORDS:
        dictionary.add_symbol(word)
    return dictionary  # 4 specials + 8 words


def make_table(rows, dim=DIM, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return nn.functional.normalize(torch.randn(rows, dim, generator=generator), dim=1)


class ToyContinuousModel(nn.Module):
    """The interface the criteria need: forward -> (vectors, extra), get_target_embeddings()."""

    def __init__(self, table, out_dim=DIM, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.embed = nn.Embedding(table.size(0), 16)
        self.project = nn.Linear(16, out_dim)
        self.register_buffer("table", table)
        self.num_updates = 0

    def forward(self, src_tokens, src_lengths, prev_output_tokens):
        context = self.embed(src_tokens).mean(dim=1, keepdim=True)
        return self.project(torch.tanh(self.embed(prev_output_tokens) + context)), {}

    def get_target_embeddings(self):
        return self.table

    def set_num_updates(self, num_updates):
        self.num_updates = num_updates

    def get_num_updates(self):
        return self.num_updates


def make_sample(dictionary, lengths=(5, 3, 4, 2), seed=0):
    generator = torch.Generator().manual_seed(seed)
    batch, width = len(lengths), max(lengths)
    target = torch.full((batch, width), dictionary.pad(), dtype=torch.long)
    for row, length in enumerate(lengths):
        target[row, :length - 1] = torch.randint(dictionary.nspecial, len(dictionary), (length - 1,), generator=generator)
        target[row, length - 1] = dictionary.eos()
    prev = torch.full_like(target, dictionary.pad())
    for row, length in enumerate(lengths):
        prev[row, 0] = dictionary.eos()
        prev[row, 1:length] = target[row, :length - 1]
    src = torch.randint(dictionary.nspecial, len(dictionary), (batch, 3), generator=generator)
    return {
        "id": torch.arange(batch),
        "nsentences": batch,
        "ntokens": int(sum(lengths)),
        "net_input": {"src_tokens": src, "src_lengths": torch.full((batch,), 3), "prev_output_tokens": prev},
        "target": target,
    }


def slice_sample(sample, rows):
    target = sample["target"][rows]
    return {
        "id": sample["id"][rows],
        "nsentences": len(target),
        "ntokens": int(target.ne(1).sum()),
        "net_input": {key: value[rows] for key, value in sample["net_input"].items()},
        "target": target,
    }


def build(name, task=None, **overrides):
    dictionary = make_dictionary()
    task = task or SimpleNamespace(target_dictionary=dictionary)
    criterion_cls = CRITERION_REGISTRY[name]
    config_cls = criterion_cls.__dataclass
    cfg = config_cls(sentence_avg=overrides.pop("sentence_avg", False), **overrides)
    return criterion_cls.build_criterion(cfg, task), task.target_dictionary


def reduced(criterion, logging_outputs):
    with metrics.aggregate() as aggregator:
        type(criterion).reduce_metrics(logging_outputs)
        return aggregator.get_smoothed_values()


ALL = ["vmf", "cosine", "l2", "max_margin"]


def test_criteria_are_registered_with_dataclass_configs():
    for name in ALL:
        assert name in CRITERION_REGISTRY
        assert CRITERION_REGISTRY[name].__dataclass is not None
        assert CRITERION_REGISTRY[name].logging_outputs_can_be_summed()


@pytest.mark.parametrize("name", ALL)
def test_padding_is_ignored_and_loss_is_the_sum_over_real_tokens(name):
    criterion, dictionary = build(name)
    model = ToyContinuousModel(make_table(len(dictionary)))
    sample = make_sample(dictionary)
    loss, sample_size, log = criterion(model, sample)
    assert sample_size == sample["ntokens"] == log["ntokens"]
    assert log["nsentences"] == 4

    # recompute by hand on the non-padding positions only
    pred, _ = model(**sample["net_input"])
    mask = sample["target"].ne(dictionary.pad())
    table = model.table
    flat_pred, flat_index = pred[mask], sample["target"][mask]
    # expected values from the definitions, in float64 with numpy/scipy (not the code under test)
    p = flat_pred.detach().double().numpy()
    t = table[flat_index].double().numpy()
    kappa, dot = np.linalg.norm(p, axis=1), (p * t).sum(axis=1)
    if name == "vmf":
        nu = DIM / 2 - 1  # log C_m(k) = nu log k - (m/2) log 2pi - log I_nu(k), I_nu(k) = ive(nu, k) e^k
        log_c = nu * np.log(kappa) - DIM / 2 * np.log(2 * np.pi) - (np.log(scipy.special.ive(nu, kappa)) + kappa)
        expected = torch.tensor((-log_c - 0.1 * dot + 0.02 * kappa).sum(), dtype=torch.float32)
    elif name == "cosine":
        expected = torch.tensor((1 - dot / kappa).sum(), dtype=torch.float32)
    elif name == "l2":
        expected = torch.tensor(((p - t) ** 2).sum(), dtype=torch.float32)
    else:
        banned = torch.zeros(len(dictionary), dtype=torch.bool)
        banned[[dictionary.pad(), dictionary.bos()]] = True
        unit = nn.functional.normalize(flat_pred, dim=1)
        scores = unit @ table.t()
        scores[:, banned] = float("-inf")
        scores[torch.arange(len(flat_index)), flat_index] = float("-inf")
        negatives = scores.max(dim=1).values
        expected = torch.relu(0.5 + negatives - (unit * table[flat_index]).sum(1)).sum()
    torch.testing.assert_close(loss, expected)
    assert float(log["cos_sum"]) == pytest.approx(float(nn.functional.cosine_similarity(flat_pred, table[flat_index]).sum()), rel=1e-5)
    assert float(log["kappa_sum"]) == pytest.approx(float(flat_pred.norm(dim=1).sum()), rel=1e-5)

    # whatever the model predicts at padded positions does not matter, nor gets gradient
    def poison(module, args, output):
        vectors, extra = output
        poisoned = torch.where(mask.unsqueeze(-1), vectors, torch.full_like(vectors, 1e4))
        return poisoned, extra

    handle = model.register_forward_hook(poison)
    poisoned_loss, _, _ = criterion(model, sample)
    handle.remove()
    torch.testing.assert_close(poisoned_loss, loss)


@pytest.mark.parametrize("name", ALL)
def test_unreduced_loss_is_one_value_per_position(name):
    criterion, dictionary = build(name)
    model = ToyContinuousModel(make_table(len(dictionary)))
    sample = make_sample(dictionary)
    per_position, _, log = criterion(model, sample, reduce=False)
    reduced_loss, _, _ = criterion(model, sample)
    assert per_position.shape == (sample["target"].numel(),)
    torch.testing.assert_close(per_position.sum(), reduced_loss)
    padded = sample["target"].view(-1).eq(dictionary.pad())
    assert padded.any() and per_position[padded].eq(0).all() and per_position[~padded].ne(0).all()
    torch.testing.assert_close(log["loss"], reduced_loss.data)


@pytest.mark.parametrize("name", ALL)
def test_sentence_avg_sets_sample_size(name):
    criterion, dictionary = build(name, sentence_avg=True)
    model = ToyContinuousModel(make_table(len(dictionary)))
    _, sample_size, log = criterion(model, make_sample(dictionary))
    assert sample_size == 4 == log["sample_size"]


@pytest.mark.parametrize("name", ALL)
def test_reduced_metrics_equal_when_the_batch_is_split(name):
    criterion, dictionary = build(name)
    model = ToyContinuousModel(make_table(len(dictionary))).eval()
    sample = make_sample(dictionary, lengths=(5, 3, 4, 2, 6, 1))
    whole = reduced(criterion, [criterion(model, sample)[2]])
    halves = [criterion(model, slice_sample(sample, rows))[2] for rows in (slice(0, 2), slice(2, 6))]
    split = reduced(criterion, halves)
    assert set(whole) == set(split) >= {"loss", "cos", "kappa", "nn_acc"}
    for key in ("loss", "cos", "kappa", "nn_acc"):
        assert split[key] == pytest.approx(whole[key], abs=1e-3), key
    assert "ppl" not in whole


def test_neighbour_accuracy_is_logged_on_validation_only_and_is_right():
    criterion, dictionary = build("cosine", neighbour_chunk_size=3)
    table = make_table(len(dictionary))
    model = ToyContinuousModel(table)
    sample = make_sample(dictionary)
    train_log = criterion(model.train(), sample)[2]
    assert "nn_correct" not in train_log
    # make the model predict the exact target vector for half of the tokens
    target = sample["target"]
    mask = target.ne(dictionary.pad())
    wanted = table[target] * 3.0
    right = mask & (torch.arange(target.size(1)).unsqueeze(0) % 2 == 0)
    wrong_rows = table[(target + 1 - dictionary.nspecial) % len(WORDS) + dictionary.nspecial]
    vectors = torch.where(right.unsqueeze(-1), wanted, wrong_rows)

    class Fixed(ToyContinuousModel):
        def forward(self, **kwargs):
            return vectors, {}

    fixed = Fixed(table).eval()
    log = criterion(fixed, sample)[2]
    assert int(log["nn_correct"]) == int(right.sum())
    assert int(log["nn_count"]) == int(mask.sum())
    values = reduced(criterion, [log])
    assert values["nn_acc"] == pytest.approx(100.0 * int(right.sum()) / int(mask.sum()), abs=1e-3)


def test_vmf_cosine_warmup_switches_after_the_given_updates():
    criterion, dictionary = build("vmf", vmf_cosine_warmup_updates=3)
    model = ToyContinuousModel(make_table(len(dictionary))).train()
    sample = make_sample(dictionary)
    pred, _ = model(**sample["net_input"])
    mask = sample["target"].ne(dictionary.pad())
    cos_value = cosine_loss(pred[mask], model.table[sample["target"][mask]]).sum()
    vmf_value = vmf_nll(pred[mask], model.table[sample["target"][mask]], 0.02, 0.1).sum()
    model.set_num_updates(2)
    torch.testing.assert_close(criterion(model, sample)[0], cos_value)
    model.set_num_updates(3)
    torch.testing.assert_close(criterion(model, sample)[0], vmf_value)
    # validation always reports the vMF loss
    model.set_num_updates(0)
    torch.testing.assert_close(criterion(model.eval(), sample)[0], vmf_value)


def test_vmf_approximate_normaliser_option():
    criterion, dictionary = build("vmf", vmf_normaliser="approximate", vmf_lambda1=0.0, vmf_lambda2=1.0)
    model = ToyContinuousModel(make_table(len(dictionary)))
    sample = make_sample(dictionary)
    pred, _ = model(**sample["net_input"])
    mask = sample["target"].ne(dictionary.pad())
    expected = vmf_nll(pred[mask], model.table[sample["target"][mask]], 0.0, 1.0, approximate=True).sum()
    torch.testing.assert_close(criterion(model, sample)[0], expected)


def test_bad_tables_and_options_fail_before_training():
    dictionary = make_dictionary()
    zero_row = make_table(len(dictionary))
    zero_row[5] = 0.0
    with pytest.raises(InputError, match="target embedding row 5 is zero-norm"):
        build("vmf", task=SimpleNamespace(target_dictionary=dictionary, target_embeddings=zero_row))
    one_dim = torch.ones(len(dictionary), 1)
    with pytest.raises(InputError, match="m must be an integer >= 2, got 1"):
        build("cosine", task=SimpleNamespace(target_dictionary=dictionary, target_embeddings=one_dim))
    with pytest.raises(InputError, match="--vmf-lambda2 must be > 0"):
        build("vmf", vmf_lambda2=0.0)
    with pytest.raises(InputError, match="--margin must be >= 0"):
        build("max_margin", margin=-1.0)
    with pytest.raises(InputError, match="--neighbour-chunk-size must be >= 1"):
        build("l2", neighbour_chunk_size=0)

    # a model whose output dimension differs from the table's
    criterion, dictionary = build("vmf")
    model = ToyContinuousModel(make_table(len(dictionary), dim=DIM), out_dim=DIM + 2)
    with pytest.raises(InputError, match="outputs 8-d vectors but the target embedding table is 6-d"):
        criterion(model, make_sample(dictionary))


class CountOps(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.count += 1
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("name", ALL)
def test_no_python_loop_over_time_steps_or_tokens(name):
    # the number of tensor operations must not grow with the sequence length
    criterion, dictionary = build(name)
    model = ToyContinuousModel(make_table(len(dictionary)))
    criterion(model, make_sample(dictionary))  # first call checks the table once
    counts = []
    for length in (3, 30):
        sample = make_sample(dictionary, lengths=(length, length))
        model.zero_grad(set_to_none=True)
        with CountOps() as ops:
            loss, _, _ = criterion(model, sample)
            loss.backward()
        counts.append(ops.count)
    assert counts[0] == counts[1]


def train_steps(criterion, model, sample, steps, autocast_dtype=None):
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.05)
    losses = []
    for step in range(steps):
        model.set_num_updates(step)
        optimizer.zero_grad()
        if autocast_dtype is None:
            loss, sample_size, _ = criterion(model, sample)
        else:
            with torch.autocast("cpu", dtype=autocast_dtype):
                loss, sample_size, _ = criterion(model, sample)
        assert loss.dtype == torch.float32
        (loss / sample_size).backward()
        for parameter in model.parameters():
            if parameter.grad is not None:
                assert torch.isfinite(parameter.grad).all()
        optimizer.step()
        losses.append(float(loss))
    return losses


@pytest.mark.parametrize("name", ALL)
def test_bf16_autocast_training_stays_finite_and_tracks_float32(name):
    criterion, dictionary = build(name)
    table = make_table(len(dictionary), dim=300)
    losses = train_steps(criterion, ToyContinuousModel(table, out_dim=300), make_sample(dictionary), 6, torch.bfloat16)
    reference = train_steps(criterion, ToyContinuousModel(table, out_dim=300), make_sample(dictionary), 6)
    assert all(math.isfinite(value) for value in losses)
    assert losses[-1] < losses[0]
    # the same six steps in float32 from the same initial weights: bf16 matmuls round the
    # predictions to ~3 significant digits, the loss itself is float32
    scale = max(abs(value) for value in reference)
    assert all(abs(a - b) <= 0.02 * scale for a, b in zip(losses, reference)), (losses, reference)


def test_bf16_weights_training_stays_finite_and_tracks_float32():
    # fairseq's --bf16 casts the model itself to bfloat16; the loss is still float32
    criterion, dictionary = build("vmf")
    table = make_table(len(dictionary), dim=300)
    model = ToyContinuousModel(table, out_dim=300).to(torch.bfloat16)
    losses = train_steps(criterion, model, make_sample(dictionary), 6)
    reference = train_steps(criterion, ToyContinuousModel(table, out_dim=300), make_sample(dictionary), 6)
    assert all(math.isfinite(value) for value in losses)
    assert losses[0] == pytest.approx(reference[0], abs=0.05 * abs(reference[0]) + 0.5)
    assert losses[-1] < losses[0] and reference[-1] < reference[0]


def test_released_loss_form_matches_the_authors_formula():
    # -log C_m(k) + log(1+k)(0.2 - cos), from scipy in float64 (not the code under test)
    criterion, dictionary = build("vmf", vmf_loss_form="released")
    model = ToyContinuousModel(make_table(len(dictionary)))
    sample = make_sample(dictionary)
    loss, _, _ = criterion(model, sample)
    pred, _ = model(**sample["net_input"])
    mask = sample["target"].ne(dictionary.pad())
    p = pred[mask].detach().double().numpy()
    t = model.table[sample["target"][mask]].double().numpy()
    kappa = np.linalg.norm(p, axis=1)
    cos = (p * t).sum(axis=1) / kappa
    nu = DIM / 2 - 1
    log_c = nu * np.log(kappa) - DIM / 2 * np.log(2 * np.pi) - (np.log(scipy.special.ive(nu, kappa)) + kappa)
    expected = (-log_c + np.log1p(kappa) * (0.2 - cos)).sum()
    torch.testing.assert_close(loss, torch.tensor(expected, dtype=torch.float32))
    # the paper's lambdas play no part in this form; the margin does
    other, _ = build("vmf", vmf_loss_form="released", vmf_lambda1=0.5, vmf_lambda2=0.7)
    torch.testing.assert_close(other(model, sample)[0], loss)
    shifted, _ = build("vmf", vmf_loss_form="released", vmf_released_margin=0.5)
    expected_shifted = (-log_c + np.log1p(kappa) * (0.5 - cos)).sum()
    torch.testing.assert_close(shifted(model, sample)[0], torch.tensor(expected_shifted, dtype=torch.float32))


def test_released_loss_form_refuses_the_approximate_normaliser():
    with pytest.raises(InputError, match="--vmf-loss-form released"):
        build("vmf", vmf_loss_form="released", vmf_normaliser="approximate")


def numpy_renormalised_nll(pred, table, targets, rows):
    """-log softmax over ``rows`` of pred . table[rows], at each target, in float64 numpy."""
    logits = pred @ table[rows].T
    top = logits.max(axis=1, keepdims=True)
    log_z = np.log(np.exp(logits - top).sum(axis=1)) + top[:, 0]
    column = np.array([list(rows).index(t) for t in targets])
    return log_z - logits[np.arange(len(targets)), column]


@pytest.mark.parametrize("candidates", ["batch", "all"])
def test_table_nll_term_is_the_vmf_renormalised_over_its_candidate_rows(candidates):
    dictionary = make_dictionary()
    base, _ = build("vmf")
    criterion, _ = build("vmf", vmf_table_nll_weight=0.5, vmf_table_candidates=candidates)
    model = ToyContinuousModel(make_table(len(dictionary)))
    sample = make_sample(dictionary)
    pred, _ = model(**sample["net_input"])
    mask = sample["target"].ne(dictionary.pad())
    targets = sample["target"][mask].numpy()
    if candidates == "batch":
        rows = sorted(set(targets.tolist()))  # the distinct target words of the batch
        assert len(rows) < len(dictionary) - 2  # a real subset of the allowed rows
    else:  # every row but <s> and <pad>
        rows = [i for i in range(len(dictionary)) if i not in (dictionary.bos(), dictionary.pad())]
    p = pred[mask].detach().double().numpy()
    extra = numpy_renormalised_nll(p, model.table.double().numpy(), targets, rows).sum()
    expected = base(model, sample)[0].double() + 0.5 * extra
    torch.testing.assert_close(criterion(model, sample)[0].double(), expected, rtol=1e-5, atol=1e-4)


def test_table_nll_term_pushes_the_prediction_away_from_the_nearest_wrong_row():
    # the vMF likelihood's gradient only pulls towards the target; the renormalised term also
    # pushes away from the other candidates, hardest from the closest one
    table = torch.eye(3)
    pred = torch.tensor([[2.0, 1.5, 0.0]], requires_grad=True)
    loss = table_nll(pred, torch.tensor([0]), table, torch.arange(3))
    loss.backward()
    grad = pred.grad[0]
    assert grad[0] < 0 and grad[1] > 0 and grad[2] > 0 and grad[1] > grad[2]


def test_negative_table_nll_weight_is_refused():
    with pytest.raises(InputError, match="--vmf-table-nll-weight"):
        build("vmf", vmf_table_nll_weight=-1.0)


def test_table_label_smoothing_spreads_eps_of_the_target_mass_over_the_candidates():
    rng = np.random.default_rng(3)
    table = rng.normal(size=(6, 4))
    table /= np.linalg.norm(table, axis=1, keepdims=True)
    pred = rng.normal(size=(5, 4)) * 3
    targets = np.array([0, 2, 2, 5, 3])
    rows = [0, 2, 3, 5]
    logits = pred @ table[rows].T
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    smoothed_target = np.full((5, 4), 0.1 / 4)  # eps uniform over the 4 candidates
    smoothed_target[np.arange(5), [rows.index(t) for t in targets]] += 0.9
    expected = -(smoothed_target * log_p).sum(axis=1)
    got = table_nll(torch.tensor(pred), torch.tensor(targets), torch.tensor(table),
                    torch.tensor(rows), label_smoothing=0.1)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10)
    unsmoothed = table_nll(torch.tensor(pred), torch.tensor(targets), torch.tensor(table), torch.tensor(rows))
    assert not np.allclose(unsmoothed.numpy(), expected)


@pytest.mark.parametrize("eps", [-0.1, 1.0])
def test_table_label_smoothing_outside_zero_one_is_refused(eps):
    with pytest.raises(InputError, match="--vmf-table-label-smoothing"):
        build("vmf", vmf_table_label_smoothing=eps)


@pytest.mark.parametrize("name, options", [(name, {}) for name in ALL] + [("vmf", {"vmf_table_nll_weight": 2.0})])
def test_ignore_unk_targets_trains_and_counts_only_the_other_positions(name, options):
    # a capped target vocabulary writes cut words as <unk>: with --ignore-unk-targets those
    # positions weigh nothing, exactly as if they were padding, and leave the candidates
    dictionary = make_dictionary()
    model = ToyContinuousModel(make_table(len(dictionary)))
    sample = make_sample(dictionary)
    sample["target"][0, 1] = sample["target"][2, 0] = dictionary.unk()
    as_padding = {**sample, "target": sample["target"].masked_fill(sample["target"].eq(dictionary.unk()),
                                                                   dictionary.pad())}
    ignoring, _ = build(name, ignore_unk_targets=True, **options)
    plain, _ = build(name, **options)
    model.eval()  # nn_acc is counted too
    loss, _, log = ignoring(model, sample)
    expected_loss, _, expected_log = plain(model, as_padding)
    unignored_loss, _, _ = plain(model, sample)
    torch.testing.assert_close(loss, expected_loss)
    assert not torch.allclose(loss, unignored_loss)
    for key in ("cos_sum", "kappa_sum", "nn_count", "nn_correct"):
        torch.testing.assert_close(log[key], expected_log[key])
    assert int(log["nn_count"]) == int(sample["target"].ne(dictionary.pad()).sum()) - 2
