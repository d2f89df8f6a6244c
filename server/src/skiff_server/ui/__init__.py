"""Skiff's tracking UI: server-rendered pages over the TrackingStore API, a little JavaScript
(uPlot for charts), every table a page of a server-side query."""
